/**
 * The maths behind a job's charts: percentiles, nice axis maxima, the numeric fields of run results and
 * the summary of a day's outcomes. Pure: no I/O, no clock, no markup; the components in components/ draw.
 */

import type { DailyOutcome, RecentRun } from "./queries/dashboard.ts";

export type { DailyOutcome, RecentRun };

/**
 * The p-th percentile (p from 0 to 100) with linear interpolation between the closest ranks, as
 * NumPy's default and Excel's PERCENTILE.INC: rank = p/100 × (n − 1). Null when there are no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be from 0 to 100, got ${p}`);
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
}

/** The smallest of 1, 2, 2.5, 5 × 10ⁿ that is at least `value`; 1 for zero, negative or non-finite. */
export function niceMax(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  // The tolerance keeps 0.3 / 0.1 = 2.9999999999999996 from becoming 5.
  const step = [1, 2, 2.5, 5, 10].find((nice) => nice * magnitude >= value * (1 - 1e-9))!;
  return step * magnitude;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Axis maxima that read as round durations: 500 ms, 2 s, 30 s, 5 min, 2 h, 1 d. */
const DURATION_STEPS_MS = [
  ...[10, 20, 50, 100, 200, 500],
  ...[1, 2, 5, 10, 15, 20, 30].map((s) => s * SECOND_MS),
  ...[1, 2, 5, 10, 15, 20, 30].map((m) => m * MINUTE_MS),
  ...[1, 2, 3, 6, 12].map((h) => h * HOUR_MS),
  DAY_MS,
];

/** The round duration at or above `ms` to use as a chart's top; 1 s when there is nothing to show. */
export function niceDurationMax(ms: number): number {
  if (!(ms > 0) || !Number.isFinite(ms)) return SECOND_MS;
  return DURATION_STEPS_MS.find((step) => step >= ms) ?? niceMax(ms / DAY_MS) * DAY_MS;
}

/** The durations of runs that finished running: completed and failed. Skipped runs never ran. */
export function finishedDurations(runs: readonly RecentRun[]): number[] {
  return runs
    .filter((run) => (run.status === "completed" || run.status === "failed") && run.durationMs !== null)
    .map((run) => run.durationMs!)
    .filter(Number.isFinite);
}

/** One value of a numeric result field; `index` is the run's position in the runs given. */
export interface NumericPoint {
  index: number;
  runId: string;
  startedAt: string;
  value: number;
}

/** A numeric result field over the runs: `sent`, or `stats.sent` for one level of nesting. */
export interface NumericSeries {
  field: string;
  points: NumericPoint[];
}

/**
 * Every numeric field of the runs' results with the number of runs that have it, in order of first
 * appearance. Top-level finite numbers, and finite numbers one level down as `parent.child`; arrays,
 * strings, booleans and deeper levels are ignored.
 */
export function numericFieldCounts(runs: readonly RecentRun[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const field of numericFields(run.result).keys()) counts.set(field, (counts.get(field) ?? 0) + 1);
  }
  return counts;
}

/**
 * The numeric fields of the runs' results as series, at most `maxFields` of them: those present in the
 * most runs, ties in order of first appearance. Each series has one point per run that has the field.
 */
export function numericSeries(runs: readonly RecentRun[], maxFields = 6): NumericSeries[] {
  const chosen = [...numericFieldCounts(runs)]
    .map(([field, count], order) => ({ field, count, order }))
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .slice(0, Math.max(0, maxFields));
  const series = chosen.map(({ field }): NumericSeries => ({ field, points: [] }));
  runs.forEach((run, index) => {
    const values = numericFields(run.result);
    for (const { field, points } of series) {
      const value = values.get(field);
      if (value !== undefined) points.push({ index, runId: run.id, startedAt: run.startedAt, value });
    }
  });
  return series;
}

/** A result's numeric fields; a Map, so a key such as `__proto__` is only a name. */
function numericFields(result: unknown): Map<string, number> {
  const fields = new Map<string, number>();
  if (!isPlainObject(result)) return fields;
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === "number") {
      if (Number.isFinite(value) && !fields.has(key)) fields.set(key, value);
    } else if (isPlainObject(value)) {
      for (const [childKey, child] of Object.entries(value)) {
        const field = `${key}.${childKey}`;
        if (typeof child === "number" && Number.isFinite(child) && !fields.has(field)) {
          fields.set(field, child);
        }
      }
    }
  }
  return fields;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How a day went, for the daily strip: `none` when nothing ran at all. */
export type DayState = "none" | "completed" | "failed" | "running" | "skipped";

/** A day's state: failed when any run failed, else completed when any completed, and so on. */
export function dayState(day: DailyOutcome): DayState {
  if (day.failed > 0) return "failed";
  if (day.completed > 0) return "completed";
  if (day.running > 0) return "running";
  if (day.skipped > 0) return "skipped";
  return "none";
}
