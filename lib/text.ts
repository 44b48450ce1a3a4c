/**
 * Text as PostgreSQL will store it. `text` and `jsonb` refuse the NUL
 * character, so a job's error, log or result containing one would make its
 * outcome unrecordable; these helpers replace it, and cut long text without
 * splitting a surrogate pair.
 */

/** Only the tail of a run's output is kept. */
export const MAX_LOG_CHARS = 10 * 1024;
/** Longer error messages are cut to this. */
export const MAX_ERROR_CHARS = 8 * 1024;

// deno-lint-ignore no-control-regex
const NUL = /\u0000/g;
const REPLACEMENT = "\uFFFD";

/** `text` with each NUL replaced by U+FFFD. */
export function withoutNul(text: string): string {
  return text.includes("\u0000") ? text.replace(NUL, REPLACEMENT) : text;
}

/** A JSON value with NUL replaced in every string and key. */
export function jsonWithoutNul(value: unknown): unknown {
  if (typeof value === "string") return withoutNul(value);
  if (Array.isArray(value)) return value.map(jsonWithoutNul);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [withoutNul(key), jsonWithoutNul(item)]),
    );
  }
  return value;
}

/** The last `max` characters, NUL-free, not starting in the middle of a surrogate pair; null when empty. */
export function tailText(text: string | undefined | null, max: number): string | null {
  if (!text) return null;
  if (text.length <= max) return withoutNul(text);
  const cut = text.slice(-max);
  return withoutNul(/^[\uDC00-\uDFFF]/.test(cut) ? cut.slice(1) : cut);
}

/** The first `max` characters, NUL-free, not ending in the middle of a surrogate pair. */
export function headText(text: string, max: number): string {
  const cut = text.length <= max ? text : text.slice(0, max);
  return withoutNul(/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut);
}

/** Whether `text` holds a control character (other than tab, newline, carriage return). */
export function hasControlCharacter(text: string): boolean {
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}
