/**
 * Renders a page: Preact to HTML, the page's CSS extracted by twind, and the
 * boot module only when an island was rendered (a page without islands
 * ships no JavaScript at all).
 */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { IslandsManifest } from "./build.ts";
import { collectIslands, registerIslands, setIslandUrlResolver } from "./islands.ts";
import { islands } from "./islands.gen.ts";
import { extractCss } from "./twind.ts";

registerIslands(islands);

let manifest: IslandsManifest | null = null;

/** Points rendering at a build of the island bundles (done at start-up). */
export function useIslandsManifest(built: IslandsManifest): void {
  manifest = built;
  setIslandUrlResolver((name) => {
    const url = built.islands[name];
    if (!url) throw new Error(`island ${name} is not in the build; run deno task build`);
    return url;
  });
}

export interface RenderedPage {
  html: string;
  islands: Set<string>;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** Renders a full HTML document around `body`. `nonce` is the CSP nonce for the style tag. */
export function renderDocument(body: VNode, options: { title: string; nonce: string }): RenderedPage {
  const { output: bodyHtml, islands: used } = collectIslands(() => renderToString(body));
  const css = extractCss(bodyHtml, used.size > 0 && manifest ? manifest.classes : []);
  const head = [
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(options.title)}</title>`,
    `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`,
    `<style nonce="${escapeHtml(options.nonce)}">${css}</style>`,
  ];
  if (used.size > 0 && manifest) {
    for (const name of used) {
      head.push(`<link rel="modulepreload" href="${escapeHtml(manifest.islands[name])}">`);
    }
    head.push(`<script type="module" src="${escapeHtml(manifest.boot)}"></script>`);
  }
  const html = `<!DOCTYPE html><html lang="en"><head>${head.join("")}</head>${bodyHtml}</html>`;
  return { html, islands: used };
}
