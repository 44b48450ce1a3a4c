/**
 * How Jobwatch writes durations, counts and times for people. Pure and
 * small: the server and the islands both use it.
 */
/** 840 ms, 12.4 s, 3 min 5 s, 2 h 5 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  if (ms < 59_950) {
    const seconds = Math.round(ms / 100) / 10;
    return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
  }
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return joinUnits(Math.floor(totalSeconds / 60), "min", totalSeconds % 60, "s");
  const totalMinutes = Math.round(totalSeconds / 60);
  if (totalMinutes < 24 * 60) return joinUnits(Math.floor(totalMinutes / 60), "h", totalMinutes % 60, "min");
  const totalHours = Math.round(totalMinutes / 60);
  return joinUnits(Math.floor(totalHours / 24), "d", totalHours % 24, "h");
}

function joinUnits(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
}

const exact = new Intl.NumberFormat("en-US");

/** A count: exact ("12,345"), or rounded with "about" when it is an estimate ("about 1.2 M"). */
export function formatCount(value: number, estimated = false): string {
  if (!estimated) return exact.format(value);
  if (value >= 1e9) return `about ${trimZero(value / 1e9)} B`;
  if (value >= 1e6) return `about ${trimZero(value / 1e6)} M`;
  if (value >= 1e4) return `about ${trimZero(value / 1e3)} K`;
  return `about ${exact.format(Math.round(value))}`;
}

function trimZero(value: number): string {
  const rounded = value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return String(rounded);
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "always" });
const MINUTE_MS = 60_000;
const RELATIVE_UNITS: [limitMinutes: number, unit: Intl.RelativeTimeFormatUnit, minutes: number][] = [
  [1, "second", 1 / 60],
  [60, "minute", 1],
  [24 * 60, "hour", 60],
  [30 * 24 * 60, "day", 24 * 60],
  [365 * 24 * 60, "month", 30 * 24 * 60],
  [Infinity, "year", 365 * 24 * 60],
];

/**
 * "5 minutes ago", "in 3 hours", relative to `now`: the largest whole unit,
 * rounded (months of 30 days, years of 365). Intl, not a date library, so
 * the islands that show it stay small.
 */
export function formatRelative(date: Date | string, now: Date | number): string {
  const then = typeof date === "string" ? new Date(date) : date;
  const ms = then.getTime() - Number(now);
  if (Math.abs(ms) < 1000) return "just now";
  const minutes = Math.abs(ms) / MINUTE_MS;
  const [, unit, unitMinutes] = RELATIVE_UNITS.find(([limit]) => minutes < limit)!;
  let count = Math.round(minutes / unitMinutes);
  // 11.6 months rounds to 12: say "1 year", as for the other units' carry.
  if (unit === "month" && count === 12) return relative.format(Math.sign(ms), "year");
  if (ms < 0) count = -count;
  return relative.format(count, unit);
}

/** A success rate as a percentage with at most one decimal: 100 %, 97.5 %. */
export function formatPercent(ratio: number): string {
  const percent = Math.round(ratio * 1000) / 10;
  return `${percent} %`;
}

/** The exact instant in UTC, for titles and `<time>` elements: 2027-03-08 09:00:05 UTC. */
export function formatExactUtc(date: Date | string): string {
  const iso = (typeof date === "string" ? new Date(date) : date).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
