/**
 * Server-side CSS: twind generates, for each page, the CSS of exactly the
 * classes the page uses. No CSS runtime reaches the browser.
 */
import { stringify, twind, virtual } from "@twind/core";
import config from "../../fresh.config.ts";

const tw = twind(config.twind, virtual());

/** Pages come in few shapes, so few distinct class sets: their CSS is kept, most recent last. */
const CSS_CACHE_ENTRIES = 64;
const cssByClasses = new Map<string, string>();

const CLASS_ATTRIBUTE = /\sclass="([^"]*)"/g;

/** The distinct class tokens of the `class` attributes in `html`, sorted. */
export function classTokensOf(html: string): string[] {
  // A page repeats a few hundred distinct attribute values thousands of times: split each once.
  const values = new Set<string>();
  for (const match of html.matchAll(CLASS_ATTRIBUTE)) values.add(match[1]);
  const tokens = new Set<string>();
  for (const value of values) {
    for (const token of value.split(/\s+/)) if (token) tokens.add(token);
  }
  return [...tokens].sort();
}

/**
 * Returns the CSS for the classes in `html`, plus `extraClasses` (classes
 * that islands may add in the browser after hydration). Generating CSS costs
 * far more than finding the classes, and a dashboard's class set repeats
 * from request to request, so the CSS is cached by the set.
 */
export function extractCss(html: string, extraClasses: readonly string[] = []): string {
  const tokens = classTokensOf(html);
  const key = `${tokens.join(" ")}|${extraClasses.join(" ")}`;
  const cached = cssByClasses.get(key);
  if (cached !== undefined) {
    cssByClasses.delete(key);
    cssByClasses.set(key, cached);
    return cached;
  }
  // Synchronous from snapshot to restore, so concurrent requests cannot mix.
  const restore = tw.snapshot();
  let css: string;
  try {
    for (const token of extraClasses) tw(token);
    for (const token of tokens) tw(token);
    css = stringify(tw.target);
  } finally {
    restore();
  }
  cssByClasses.set(key, css);
  if (cssByClasses.size > CSS_CACHE_ENTRIES) cssByClasses.delete(cssByClasses.keys().next().value!);
  return css;
}
