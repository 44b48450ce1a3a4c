/** Hono glue for pages: the CSP that allows the page's style, and its gzip when the client takes it. */
import type { Context } from "hono";
import type { VNode } from "preact";
import { renderDocument } from "../render/page.tsx";
import type { AppEnv } from "./context.ts";
import { acceptsGzip } from "./compress.ts";
import { contentSecurityPolicy } from "./security.ts";

export function renderPage(
  c: Context<AppEnv>,
  body: VNode,
  options: {
    title: string;
    status?: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;
    /** See renderDocument: the serialised inputs of `body`, to reuse its render. */
    memoKey?: string;
  },
): Response {
  const page = renderDocument(body, { title: `${options.title} · Jobwatch`, memoKey: options.memoKey });
  c.header("Content-Type", "text/html; charset=UTF-8");
  c.header("Content-Security-Policy", contentSecurityPolicy(page.styleSource));
  c.header("Vary", "Accept-Encoding", { append: true });
  if (acceptsGzip(c.req.header("Accept-Encoding"))) {
    c.header("Content-Encoding", "gzip");
    return c.body(page.gzipped(), options.status ?? 200);
  }
  return c.body(page.bytes, options.status ?? 200);
}
