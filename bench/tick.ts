/**
 * The tick scenario: one scheduler tick with 500 enabled jobs, on whatever
 * history the database holds. The tick jobs are synced next to the jobs
 * already declared (none is retired), then a real scheduler (Runner,
 * EventBus, the production `tick`) runs on a fake clock that starts at the
 * minute boundary after the real now (the seeded history ends there) and
 * moves exactly one minute per tick. The first tick is not measured: it
 * is the tick jobs' first (or catches up after an earlier measurement). Each
 * measured tick is followed by waiting for the runs it started (their
 * handlers return at once), so their completions never overlap the next
 * measurement.
 */
import type { Sql } from "../lib/db/mod.ts";
import { EventBus } from "../lib/events.ts";
import type { Logger } from "../lib/http/context.ts";
import { createRegistry, toDeclaredJob } from "../lib/jobs/define.ts";
import { Runner } from "../lib/jobs/runner.ts";
import { type SchedulerDeps, tick } from "../lib/jobs/scheduler.ts";
import { syncJobDefinitions } from "../lib/queries/jobs.ts";
import { tickJobs } from "./jobs.ts";

export interface TickMeasurement {
  jobs: number;
  ticks: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Runs started per measured tick, on average. */
  startedPerTick: number;
}

const MINUTE_MS = 60_000;

/** The nearest-rank percentile of sorted values. */
function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)];
}

/** Drops info and warnings; keeps errors, so a tick that failed inside is reported, not timed as fast. */
function quietLogger(errors: string[]): Logger {
  return {
    info: () => {},
    warn: () => {},
    error: (message, fields) => errors.push(`${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`),
  };
}

/**
 * Syncs `jobs` tick jobs (default 500) and times `ticks` scheduler ticks
 * (default 30) after a first, unmeasured one. `now` (default: the real now)
 * is where the history ends; the fake clock starts at the next minute
 * boundary, or after the tick jobs' cursors if an earlier measurement left
 * them later, so each run schedules periods no earlier run has recorded.
 */
export async function measureTick(
  sql: Sql,
  options: { jobs?: number; ticks?: number; now?: Date } = {},
): Promise<TickMeasurement> {
  const jobs = tickJobs(options.jobs ?? 500);
  const ticks = options.ticks ?? 30;
  if (!Number.isInteger(ticks) || ticks < 1) {
    throw new RangeError(`ticks must be a whole number >= 1, got ${ticks}`);
  }
  const [{ latest }] = await sql<{ latest: Date | null }[]>`
    SELECT max(scheduled_through) AS latest FROM job_definitions
    WHERE id = ANY(${jobs.map((job) => job.id)}::text[])
  `;
  const from = Math.max((options.now ?? new Date()).getTime(), latest?.getTime() ?? -Infinity);
  let clock = new Date(Math.floor(from / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const now = () => clock;
  // Declared at the clock's start, which the sync makes their cursor, as a deploy at that moment would.
  await syncJobDefinitions(sql, jobs.map(toDeclaredJob), clock, { retireMissing: false });

  const errors: string[] = [];
  const log = quietLogger(errors);
  const bus = new EventBus();
  const instanceId = `bench-tick-${crypto.randomUUID().slice(0, 8)}`;
  const runner = new Runner({ sql, bus, log, now, instanceId });
  const deps: SchedulerDeps = { sql, registry: createRegistry(jobs), runner, bus, log, now, instanceId };

  await tick(deps);
  await runner.settle();
  const durations: number[] = [];
  let started = 0;
  for (let index = 0; index < ticks; index++) {
    clock = new Date(clock.getTime() + MINUTE_MS);
    const begin = performance.now();
    const report = await tick(deps);
    durations.push(performance.now() - begin);
    started += report.started.length;
    await runner.settle();
  }
  await removeJobs(sql, jobs.map((job) => job.id));
  if (errors.length > 0) throw new Error(`the tick logged errors: ${errors.slice(0, 3).join("; ")}`);

  const sorted = [...durations].sort((a, b) => a - b);
  return {
    jobs: jobs.length,
    ticks,
    p50Ms: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    maxMs: sorted[sorted.length - 1],
    startedPerTick: started / ticks,
  };
}

/**
 * Removes the tick jobs and everything their runs left behind. Their runs
 * started on the fake clock, up to half an hour ahead of real time: left in
 * place they would top every history page the next scenarios read, and 500
 * retired jobs would join the dashboard's cards.
 */
async function removeJobs(sql: Sql, ids: string[]): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`DELETE FROM alerts WHERE job_id = ANY(${ids}::text[])`;
    await tx`DELETE FROM job_executions WHERE job_id = ANY(${ids}::text[])`;
    await tx`DELETE FROM job_execution_stats WHERE job_id = ANY(${ids}::text[])`;
    await tx`DELETE FROM job_alert_state WHERE job_id = ANY(${ids}::text[])`;
    await tx`DELETE FROM job_tokens WHERE job_id = ANY(${ids}::text[])`;
    await tx`DELETE FROM job_definitions WHERE id = ANY(${ids}::text[])`;
  });
}
