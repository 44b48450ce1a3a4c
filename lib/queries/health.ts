/**
 * What /health/jobs and /metrics read: one statement for every job's
 * health facts, and the running totals the metrics come from.
 */
import type { Queryable } from "../db/mod.ts";
import type { ExecutionStatus } from "../events.ts";
import { latestRunsJoin } from "./latest_runs.ts";

export interface JobHealthRow {
  id: string;
  displayName: string;
  enabled: boolean;
  critical: boolean;
  schedule: string;
  timezone: string;
  maxAgeHours: number | null;
  watchFrom: Date;
  /** Starts of the latest completed and failed runs, and of the newest running one. */
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  runningSince: Date | null;
}

/** Every current (not retired) job with its latest runs: one statement, three index probes per job. */
export async function listJobHealthRows(sql: Queryable): Promise<JobHealthRow[]> {
  return await sql<JobHealthRow[]>`
    SELECT d.id, d.display_name, d.enabled, d.critical, d.schedule, d.timezone,
           d.max_age_hours::float8 AS max_age_hours,
           GREATEST(d.created_at, s.watch_from) AS watch_from,
           latest.last_success_at, latest.last_failure_at, latest.running_since
    FROM job_definitions d
    LEFT JOIN job_alert_state s ON s.job_id = d.id
    ${latestRunsJoin(sql)}
    WHERE d.retired_at IS NULL
    ORDER BY d.id
  `;
}

/** Running totals per job and status (migration 0006); buckets are not cumulative. */
export interface ExecutionStatsRow {
  jobId: string;
  status: Exclude<ExecutionStatus, "running">;
  runs: number;
  durationSumMs: number;
  buckets: number[];
}

/** The bucket bounds (ms) the database counts durations in; +Inf follows the last. */
export async function getDurationBoundsMs(sql: Queryable): Promise<number[]> {
  const [row] = await sql<{ bounds: number[] }[]>`SELECT jobwatch_duration_bounds_ms() AS bounds`;
  return row.bounds;
}

export async function listExecutionStats(sql: Queryable): Promise<ExecutionStatsRow[]> {
  const rows = await sql<
    {
      jobId: string;
      status: ExecutionStatsRow["status"];
      runs: string;
      durationSumMs: string;
      buckets: string[];
    }[]
  >`
    SELECT job_id, status, runs::text, duration_sum_ms::text, buckets::text[] AS buckets
    FROM job_execution_stats ORDER BY job_id, status
  `;
  return rows.map((row) => ({
    jobId: row.jobId,
    status: row.status,
    runs: Number(row.runs),
    durationSumMs: Number(row.durationSumMs),
    buckets: row.buckets.map(Number),
  }));
}

/** Alert deliveries by channel and state, as they stand. */
export async function countAlertDeliveries(
  sql: Queryable,
): Promise<{ channel: string; state: string; count: number }[]> {
  return await sql<{ channel: string; state: string; count: number }[]>`
    SELECT channel, state, count(*)::int AS count FROM alert_outbox GROUP BY channel, state ORDER BY 1, 2
  `;
}

/**
 * How far the scheduler is behind, in seconds: the oldest cursor of an
 * enabled in-process job (each tick moves them to its own time). Null when
 * no such job has been scheduled yet.
 */
export async function getSchedulerLagSeconds(sql: Queryable, now: Date): Promise<number | null> {
  const [row] = await sql<{ lag: number | null }[]>`
    SELECT EXTRACT(EPOCH FROM (${now}::timestamptz - min(scheduled_through)))::float8 AS lag
    FROM job_definitions
    WHERE enabled AND NOT external AND retired_at IS NULL AND scheduled_through IS NOT NULL
  `;
  return row?.lag ?? null;
}
