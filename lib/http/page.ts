/** Hono glue for pages: render with the request's CSP nonce. */
import type { Context } from "hono";
import type { VNode } from "preact";
import { renderDocument } from "../render/page.tsx";
import type { AppEnv } from "./context.ts";

export function renderPage(
  c: Context<AppEnv>,
  body: VNode,
  options: { title: string; status?: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503 },
): Response {
  const nonce = c.get("secureHeadersNonce") ?? "";
  const { html } = renderDocument(body, { title: `${options.title} · Jobwatch`, nonce });
  return c.html(html, options.status ?? 200);
}
