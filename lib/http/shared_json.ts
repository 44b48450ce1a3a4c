/**
 * A JSON answer that many requests share (the cached health report): it is
 * serialised once and gzipped once, instead of once per request, so a
 * monitor polling every second and a load balancer probing every 100 ms cost
 * a lookup each. Keyed by the value object, so a new report gets new bytes.
 */
import type { Context } from "hono";

interface Encoded {
  json: string;
  gzip: Promise<Uint8Array<ArrayBuffer>> | null;
}

const encoded = new WeakMap<object, Encoded>();

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Whether the client takes gzip (a plain `gzip` token with no q=0). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";").map((s) => s.trim());
    return name === "gzip" && !params.some((param) => /^q=0(\.0*)?$/.test(param));
  });
}

/**
 * Answers with `value` as JSON; `key` is the object whose lifetime the bytes
 * share (often `value` itself). Small bodies are sent as they are.
 */
export async function sharedJson(
  c: Context,
  key: object,
  value: unknown,
  status: 200 | 503,
): Promise<Response> {
  let entry = encoded.get(key);
  if (!entry) {
    entry = { json: JSON.stringify(value), gzip: null };
    encoded.set(key, entry);
  }
  c.header("Vary", "Accept-Encoding");
  if (entry.json.length < 1024 || !acceptsGzip(c.req.header("accept-encoding"))) {
    c.header("Content-Type", "application/json");
    return c.body(entry.json, status);
  }
  entry.gzip ??= gzip(entry.json);
  c.header("Content-Type", "application/json");
  c.header("Content-Encoding", "gzip");
  return c.body(await entry.gzip, status);
}
