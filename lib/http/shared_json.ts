/**
 * A JSON answer that many requests share (the cached health report): it is
 * serialised once and gzipped once, instead of once per request, so a
 * monitor polling every second and a load balancer probing every 100 ms cost
 * a lookup each. Keyed by the value object, so a new report gets new bytes.
 */
import type { Context } from "hono";
import { acceptsGzip, gzipBytes } from "./compress.ts";

interface Encoded {
  json: string;
  gzip: Uint8Array<ArrayBuffer> | null;
}

const encoded = new WeakMap<object, Encoded>();

/**
 * Answers with `value` as JSON; `key` is the object whose lifetime the bytes
 * share (often `value` itself). Even a small report is gzipped: that is done
 * once per report, not per request.
 */
export function sharedJson(
  c: Context,
  key: object,
  value: unknown,
  status: 200 | 503,
): Response {
  let entry = encoded.get(key);
  if (!entry) {
    entry = { json: JSON.stringify(value), gzip: null };
    encoded.set(key, entry);
  }
  c.header("Vary", "Accept-Encoding");
  if (!acceptsGzip(c.req.header("accept-encoding"))) {
    c.header("Content-Type", "application/json");
    return c.body(entry.json, status);
  }
  entry.gzip ??= gzipBytes(entry.json);
  c.header("Content-Type", "application/json");
  c.header("Content-Encoding", "gzip");
  return c.body(entry.gzip, status);
}
