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
import { gzipBytes } from "../http/compress.ts";
import { createHash } from "node:crypto";

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

/** A rendered document: the UTF-8 bytes to send, its gzip and its text on demand. */
export class RenderedPage {
  #html: string | null = null;
  #gzip: Uint8Array<ArrayBuffer> | null = null;

  constructor(
    readonly bytes: Uint8Array<ArrayBuffer>,
    readonly islands: Set<string>,
    /** The CSP source that allows the page's style tag: `'sha256-…'`. */
    readonly styleSource: string,
  ) {}

  get html(): string {
    return this.#html ??= new TextDecoder().decode(this.bytes);
  }

  /** The document gzipped, computed once per page. */
  gzipped(): Uint8Array<ArrayBuffer> {
    return this.#gzip ??= gzipBytes(this.bytes);
  }
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

const objectIds = new WeakMap<object, number>();
let lastObjectId = 0;

/**
 * A number for `value` that lasts as long as the object: a memo key can name
 * a shared read (the same object while it is unchanged) without serialising it.
 */
export function objectId(value: object): number {
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, id = ++lastObjectId);
  return id;
}

/**
 * Pages kept by their memo key, most recently used last: at most 16, and at
 * most 16 MB of documents, so the memo stays a small part of the heap the
 * start task allows (`--max-old-space-size`) however many jobs a page lists.
 * The bound counts each page's UTF-8 bytes; the gzip a page keeps once it is
 * sent adds about a tenth.
 */
const MEMO_ENTRIES = 16;
const MEMO_BYTES = 16 * 1024 * 1024;
const pagesByKey = new Map<string, RenderedPage>();
let memoBytes = 0;
const encoder = new TextEncoder();

export interface DocumentOptions {
  title: string;
  /**
   * Everything the body's HTML depends on, serialised. A page rendered for
   * an equal key (and title) is reused, bytes and gzip, instead of rendered
   * again: a busy dashboard costs one render per second and per change, not
   * one per request. Leave it out when the body depends on anything the key
   * cannot carry.
   */
  memoKey?: string;
}

/**
 * Renders a full HTML document around `body`. The style tag carries no
 * nonce: the CSP allows it by its hash (`styleSource`), so equal pages are
 * equal bytes and a memoized page is sent as it was encoded and compressed.
 */
export function renderDocument(body: VNode, options: DocumentOptions): RenderedPage {
  if (options.memoKey === undefined) return renderWhole(body, options.title);
  const key = `${options.title}\n${options.memoKey}`;
  const kept = pagesByKey.get(key);
  if (kept) {
    pagesByKey.delete(key);
    pagesByKey.set(key, kept);
    return kept;
  }
  const page = renderWhole(body, options.title);
  if (page.bytes.byteLength > MEMO_BYTES) return page;
  pagesByKey.set(key, page);
  memoBytes += page.bytes.byteLength;
  while (pagesByKey.size > MEMO_ENTRIES || memoBytes > MEMO_BYTES) {
    const [oldestKey, oldest] = pagesByKey.entries().next().value!;
    pagesByKey.delete(oldestKey);
    memoBytes -= oldest.bytes.byteLength;
  }
  return page;
}

function renderWhole(body: VNode, title: string): RenderedPage {
  const { output: bodyHtml, islands: used } = collectIslands(() => renderToString(body));
  const css = extractCss(bodyHtml, used.size > 0 && manifest ? manifest.classes : []);
  const head = [
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`,
    `<style>${css}</style>`,
  ];
  if (used.size > 0 && manifest) {
    for (const name of used) {
      head.push(`<link rel="modulepreload" href="${escapeHtml(manifest.islands[name])}">`);
    }
    head.push(`<script type="module" src="${escapeHtml(manifest.boot)}"></script>`);
  }
  const html = `<!DOCTYPE html><html lang="en"><head>${head.join("")}</head>${bodyHtml}</html>`;
  const styleSource = `'sha256-${createHash("sha256").update(css).digest("base64")}'`;
  return new RenderedPage(encoder.encode(html), used, styleSource);
}
