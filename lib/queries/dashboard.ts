/**
 * The dashboard's figures: each job with its latest runs and its last 24
 * hours, and one job's recent runs and daily outcomes for its charts. Every
 * query reads one job's executions through job_executions_job_started_idx
 * (job_id, started_at DESC, id DESC), so its cost follows that job's recent
 * runs, not the size of the table.
 */
import type { Queryable } from "../db/mod.ts";
import type { ExecutionStatus } from "../events.ts";
import { type JobDefinition, jobDefinitionColumns } from "./jobs.ts";

export interface JobSummary {
  definition: JobDefinition;
  /** The latest execution, whatever its status. */
  last: {
    id: string;
    status: ExecutionStatus;
    startedAt: Date;
    durationMs: number | null;
    errorMessage: string | null;
  } | null;
  /** The latest completed or failed execution. */
  lastFinished: {
    id: string;
    status: "completed" | "failed";
    startedAt: Date;
    errorMessage: string | null;
  } | null;
  /** Executions started in [now - 24 h, now]; durations are of finished runs. */
  day: { runs: number; completed: number; failures: number; avgMs: number | null; p95Ms: number | null };
}

interface SummaryRecord extends JobDefinition {
  lastId: string | null;
  lastStatus: ExecutionStatus;
  lastStartedAt: Date;
  lastDurationMs: number | null;
  lastErrorMessage: string | null;
  finishedId: string | null;
  finishedStatus: "completed" | "failed";
  finishedStartedAt: Date;
  finishedErrorMessage: string | null;
  dayRuns: number;
  dayCompleted: number;
  dayFailures: number;
  dayAvgMs: number | null;
  dayP95Ms: number | null;
}

/**
 * Every job, current ones first, then by display name (as
 * listJobDefinitions orders them), with its latest run, its latest finished
 * run and its last 24 hours, in one statement.
 */
export async function listJobSummaries(
  sql: Queryable,
  now: Date,
  options: { jobId?: string } = {},
): Promise<JobSummary[]> {
  const only = options.jobId === undefined ? sql`` : sql`WHERE id = ${options.jobId}`;
  const records = await sql<SummaryRecord[]>`
    SELECT d.*,
           last.id AS last_id, last.status AS last_status, last.started_at AS last_started_at,
           last.duration_ms AS last_duration_ms, last.error_message AS last_error_message,
           finished.id AS finished_id, finished.status AS finished_status,
           finished.started_at AS finished_started_at, finished.error_message AS finished_error_message,
           day.runs AS day_runs, day.completed AS day_completed, day.failures AS day_failures,
           day.avg_ms AS day_avg_ms, day.p95_ms AS day_p95_ms
    FROM (SELECT ${jobDefinitionColumns(sql)} FROM job_definitions ${only}) d
    LEFT JOIN LATERAL (
      SELECT e.id, e.status, e.started_at, e.duration_ms, e.error_message
      FROM job_executions e
      WHERE e.job_id = d.id
      ORDER BY e.started_at DESC, e.id DESC
      LIMIT 1
    ) last ON true
    LEFT JOIN LATERAL (
      -- Walks back past running and skipped runs, usually a few.
      SELECT e.id, e.status, e.started_at, e.error_message
      FROM job_executions e
      WHERE e.job_id = d.id AND e.status IN ('completed', 'failed')
      ORDER BY e.started_at DESC, e.id DESC
      LIMIT 1
    ) finished ON true
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE e.status <> 'skipped')::int AS runs,
             count(*) FILTER (WHERE e.status = 'completed')::int AS completed,
             count(*) FILTER (WHERE e.status = 'failed')::int AS failures,
             (avg(e.duration_ms) FILTER (WHERE e.status IN ('completed', 'failed')))::float8 AS avg_ms,
             (percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_ms)
               FILTER (WHERE e.status IN ('completed', 'failed')))::float8 AS p95_ms
      FROM job_executions e
      WHERE e.job_id = d.id
        AND e.started_at >= ${now}::timestamptz - interval '24 hours'
        AND e.started_at <= ${now}::timestamptz
    ) day
    ORDER BY d.retired_at IS NOT NULL, d.display_name, d.id
  `;
  return records.map(({
    lastId,
    lastStatus,
    lastStartedAt,
    lastDurationMs,
    lastErrorMessage,
    finishedId,
    finishedStatus,
    finishedStartedAt,
    finishedErrorMessage,
    dayRuns,
    dayCompleted,
    dayFailures,
    dayAvgMs,
    dayP95Ms,
    ...definition
  }) => ({
    definition,
    last: lastId === null ? null : {
      id: lastId,
      status: lastStatus,
      startedAt: lastStartedAt,
      durationMs: lastDurationMs,
      errorMessage: lastErrorMessage,
    },
    lastFinished: finishedId === null ? null : {
      id: finishedId,
      status: finishedStatus,
      startedAt: finishedStartedAt,
      errorMessage: finishedErrorMessage,
    },
    day: { runs: dayRuns, completed: dayCompleted, failures: dayFailures, avgMs: dayAvgMs, p95Ms: dayP95Ms },
  }));
}

/** One run, as a job's charts read it. */
export interface RecentRun {
  id: string;
  status: ExecutionStatus;
  /** ISO 8601. */
  startedAt: string;
  durationMs: number | null;
  result: unknown;
}

/** A job's newest `limit` runs (skipped ones left out), oldest first, for its charts. */
export async function listRecentRuns(sql: Queryable, jobId: string, limit = 200): Promise<RecentRun[]> {
  const records = await sql<(Omit<RecentRun, "startedAt"> & { startedAt: Date })[]>`
    SELECT id, status, started_at, duration_ms, result
    FROM (
      SELECT e.id, e.status, e.started_at, e.duration_ms, e.result
      FROM job_executions e
      WHERE e.job_id = ${jobId} AND e.status <> 'skipped'
      ORDER BY e.started_at DESC, e.id DESC
      LIMIT ${limit}::int
    ) recent
    ORDER BY started_at, id
  `;
  return records.map((record) => ({ ...record, startedAt: record.startedAt.toISOString() }));
}

/** A UTC day's run counts, for a job's 30-day strip. */
export interface DailyOutcome {
  /** A UTC day, YYYY-MM-DD. */
  day: string;
  completed: number;
  failed: number;
  skipped: number;
  running: number;
}

/**
 * A job's executions by outcome for each of the `days` UTC days up to and
 * including `now`'s, oldest first; days without runs are zeros.
 */
export async function listDailyOutcomes(
  sql: Queryable,
  jobId: string,
  now: Date,
  days = 30,
): Promise<DailyOutcome[]> {
  return await sql<DailyOutcome[]>`
    WITH window_days AS (
      SELECT ((${now}::timestamptz AT TIME ZONE 'UTC')::date - ${days - 1}::int) AS first_day,
             (${now}::timestamptz AT TIME ZONE 'UTC')::date AS last_day
    ),
    outcomes AS (
      SELECT (e.started_at AT TIME ZONE 'UTC')::date AS day,
             count(*) FILTER (WHERE e.status = 'completed')::int AS completed,
             count(*) FILTER (WHERE e.status = 'failed')::int AS failed,
             count(*) FILTER (WHERE e.status = 'skipped')::int AS skipped,
             count(*) FILTER (WHERE e.status = 'running')::int AS running
      FROM job_executions e, window_days w
      WHERE e.job_id = ${jobId}
        AND e.started_at >= w.first_day::timestamp AT TIME ZONE 'UTC'
        AND e.started_at < (w.last_day + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1
    )
    SELECT to_char(series.day, 'YYYY-MM-DD') AS day,
           COALESCE(o.completed, 0) AS completed, COALESCE(o.failed, 0) AS failed,
           COALESCE(o.skipped, 0) AS skipped, COALESCE(o.running, 0) AS running
    FROM window_days w
    CROSS JOIN LATERAL generate_series(w.first_day::timestamp, w.last_day::timestamp, interval '1 day') AS series(day)
    LEFT JOIN outcomes o ON o.day = series.day::date
    ORDER BY series.day
  `;
}
