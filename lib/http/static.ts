/**
 * Serves files under static/ with cache headers: content-hashed island
 * bundles are immutable, everything else is cached for an hour. Paths that
 * try to leave the directory get a 400.
 */
import type { Context } from "hono";
import { getMimeType } from "hono/utils/mime";
import type { AppEnv } from "./context.ts";
import { HttpError } from "./errors.ts";

const HASHED = /^_islands\/[A-Za-z0-9_-]+-[A-Z0-9]{8}\.js$/;

export function staticFiles(root: URL) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const raw = c.req.path.slice("/static/".length);
    let relative: string;
    try {
      relative = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, "The file path is not valid URL encoding.");
    }
    const segments = relative.split(/[\/\\]/);
    if (
      relative === "" || segments.some((s) => s === ".." || s === "." || s === "") || relative.includes("\0")
    ) {
      throw new HttpError(
        400,
        "File paths under /static/ may not contain '..', '.', empty segments or backslashes.",
      );
    }
    if (segments.some((s) => s.startsWith(".")) || relative === "_islands/manifest.json") {
      throw new HttpError(404, "No such file.");
    }
    const url = new URL(segments.map(encodeURIComponent).join("/"), root);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(url, { read: true });
    } catch {
      throw new HttpError(404, "No such file.");
    }
    const info = await file.stat();
    if (!info.isFile) {
      file.close();
      throw new HttpError(404, "No such file.");
    }
    const headers = new Headers({
      "content-type": getMimeType(relative) ?? "application/octet-stream",
      "content-length": String(info.size),
      "cache-control": HASHED.test(relative) ? "public, max-age=31536000, immutable" : "public, max-age=3600",
    });
    if (info.mtime) headers.set("last-modified", info.mtime.toUTCString());
    if (c.req.method === "HEAD") {
      file.close();
      return new Response(null, { headers });
    }
    return new Response(file.readable, { headers });
  };
}
