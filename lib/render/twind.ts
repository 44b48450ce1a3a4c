/**
 * Server-side CSS: twind generates, for each page, the CSS of exactly the
 * classes the page uses. No CSS runtime reaches the browser.
 */
import { consume, stringify, twind, virtual } from "@twind/core";
import config from "../../fresh.config.ts";

const tw = twind(config.twind, virtual());

/**
 * Returns the CSS for the classes in `html`, plus `extraClasses` (classes
 * that islands may add in the browser after hydration).
 */
export function extractCss(html: string, extraClasses: readonly string[] = []): string {
  // Synchronous from snapshot to restore, so concurrent requests cannot mix.
  const restore = tw.snapshot();
  try {
    for (const token of extraClasses) tw(token);
    consume(html, tw);
    return stringify(tw.target);
  } finally {
    restore();
  }
}
