/**
 * A shields-style status badge ("weekly digest | passing") as SVG. Pure;
 * every piece of text is escaped, and widths come from a rough per-character
 * measure of 11 px Verdana, as shields.io's flat style does.
 */
import type { HealthState } from "./state.ts";

const WORDS: Record<HealthState | "unknown", { text: string; color: string }> = {
  ok: { text: "passing", color: "#4c1" },
  new: { text: "new", color: "#9f9f9f" },
  late: { text: "late", color: "#dfb317" },
  failing: { text: "failing", color: "#e05d44" },
  disabled: { text: "disabled", color: "#9f9f9f" },
  unknown: { text: "unknown", color: "#9f9f9f" },
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Approximate rendered width of `text` at 11 px Verdana. */
function textWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    width += /[ilj.,:;'|!]/.test(char) ? 3.5 : /[mwMW]/.test(char) ? 10 : /[A-Z]/.test(char) ? 7.5 : 6.5;
  }
  return Math.ceil(width);
}

/** The badge for a job's state; `label` is the left half (the job's name, in lower case). */
export function renderBadge(label: string, state: HealthState | "unknown"): string {
  const { text, color } = WORDS[state];
  const left = textWidth(label) + 12;
  const right = textWidth(text) + 12;
  const width = left + right;
  const title = escapeXml(`${label}: ${text}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${title}">` +
    `<title>${title}</title>` +
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>` +
    `<stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${left}" height="20" fill="#555"/>` +
    `<rect x="${left}" width="${right}" height="20" fill="${color}"/>` +
    `<rect width="${width}" height="20" fill="url(#s)"/></g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">` +
    `<text x="${left / 2}" y="14">${escapeXml(label)}</text>` +
    `<text x="${left + right / 2}" y="14">${escapeXml(text)}</text></g></svg>`;
}
