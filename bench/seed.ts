/**
 * Seeds the benchmark's history with one INSERT … SELECT over
 * generate_series: each bench job gets its share of the executions, spaced
 * at its own interval back from `endAt`, about 2 % failed, with result JSON
 * and error texts like real ones. Deterministic: the same size gives the
 * same rows (apart from ids).
 *
 * Row triggers are off for the insert (session_replication_role = replica):
 * the deadline trigger only concerns running rows and every seeded row is
 * finished; the metrics counters the statement triggers keep are rebuilt
 * once afterwards from the seeded rows.
 */
import type { Sql } from "../lib/db/mod.ts";
import { toDeclaredJob } from "../lib/jobs/define.ts";
import { syncJobDefinitions } from "../lib/queries/jobs.ts";
import { APP_JOBS, BENCH_JOBS } from "./jobs.ts";

const ERRORS = [
  "ECONNRESET: connection to smtp.mailgun.org:587 was reset after 30012 ms",
  'duplicate key value violates unique constraint "invoices_period_customer_key"',
  "HTTP 503 from https://api.stripe.com/v1/payment_intents: upstream connect error or disconnect/reset before headers",
  "TimeoutError: the operation was aborted due to timeout (300 s)",
  "TypeError: Cannot read properties of undefined (reading 'customerId')\n    at buildDigest (jobs/digest.ts:88:31)\n    at async run (jobs/digest.ts:140:5)",
  "S3 PutObject failed: SlowDown: Please reduce your request rate.",
];

/** Each job's number of rows for a history of `total`: shares follow the jobs' frequencies. */
export function rowsPerJob(total: number): number[] {
  const perDay = BENCH_JOBS.map((job) => 1440 / job.intervalMinutes);
  const sum = perDay.reduce((a, b) => a + b, 0);
  const rows = perDay.map((share) => Math.floor((total * share) / sum));
  rows[0] += total - rows.reduce((a, b) => a + b, 0);
  return rows;
}

export interface SeedOptions {
  executions: number;
  /** The newest run of every job starts at or before this instant. */
  endAt: Date;
  /** Distinguishes period keys of a second seeding (the prune scenario's old rows). */
  label?: string;
}

/** Declares the bench jobs in job_definitions, as the app under test does at start-up. */
export async function seedJobs(sql: Sql, now: Date): Promise<void> {
  await syncJobDefinitions(sql, APP_JOBS.map(toDeclaredJob), now);
}

/** The secondary indexes of job_executions (those that back no constraint), with their definitions. */
async function secondaryIndexes(sql: Sql): Promise<{ name: string; definition: string }[]> {
  return await sql<{ name: string; definition: string }[]>`
    SELECT i.indexname AS name, i.indexdef AS definition
    FROM pg_indexes i
    WHERE i.tablename = 'job_executions' AND i.schemaname = current_schema()
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
    ORDER BY i.indexname
  `;
}

/**
 * Inserts `executions` finished runs of the bench jobs; returns how many were
 * inserted. The secondary indexes are dropped first and built again at the
 * end: one sort each instead of a million scattered index updates. (Two
 * connections inserting half the jobs each were no faster: the insert is
 * bound by writing the heap, the WAL and the two unique indexes.)
 */
export async function seedHistory(sql: Sql, options: SeedOptions): Promise<number> {
  const rows = rowsPerJob(options.executions);
  const indexes = await secondaryIndexes(sql);
  for (const index of indexes) await sql.unsafe(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
  try {
    return await insertRuns(sql, {
      ids: BENCH_JOBS.map((job) => job.id),
      rows,
      intervals: BENCH_JOBS.map((job) => job.intervalMinutes),
      typical: BENCH_JOBS.map((job) => job.typicalMs),
      endAt: options.endAt,
      label: options.label ?? "seed",
    });
  } finally {
    // Two builds at a time: CREATE INDEX takes a SHARE lock, which does not block another build.
    const pending = [...indexes];
    const build = async () => {
      for (let index = pending.shift(); index; index = pending.shift()) await sql.unsafe(index.definition);
    };
    await Promise.all([build(), build()]);
  }
}

interface RunBatch {
  ids: string[];
  rows: number[];
  intervals: number[];
  typical: number[];
  endAt: Date;
  label: string;
}

/** One INSERT … SELECT of the given jobs' histories, row triggers off. */
async function insertRuns(sql: Sql, batch: RunBatch): Promise<number> {
  return await sql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    const inserted = await tx`
      INSERT INTO job_executions
        (job_id, period_key, execution_id, status, trigger, started_at, completed_at, result, error_message)
      SELECT j.job_id,
             ${batch.label} || '-' || k,
             'run-' || to_hex(h.h1) || '-' || to_hex(h.h2),
             s.status,
             CASE WHEN h.h2 % 100 = 7 THEN 'manual' ELSE 'scheduled' END,
             t.started_at,
             CASE WHEN s.status = 'skipped' THEN t.started_at ELSE t.started_at + make_interval(secs => d.ms / 1000.0) END,
             CASE WHEN s.status = 'completed' THEN jsonb_build_object(
               'processed', h.h1 % 5000, 'failed', h.h2 % 3, 'batches', 1 + h.h1 % 12,
               'source', 'bench', 'cursor', to_hex(h.h1 # h.h2)) END,
             CASE s.status
               WHEN 'failed' THEN (${ERRORS}::text[])[1 + h.h2 % ${ERRORS.length}]
               WHEN 'skipped' THEN 'skipped: previous run still running'
             END
      FROM unnest(${batch.ids}::text[], ${batch.rows}::int[], ${batch.intervals}::int[], ${batch.typical}::int[])
             AS j(job_id, row_count, interval_minutes, typical_ms)
      CROSS JOIN LATERAL generate_series(1, j.row_count) AS k
      CROSS JOIN LATERAL (
        SELECT hashint8(k::bigint * 7919 + length(j.job_id) * 104729 + ascii(right(j.job_id, 1))) & 2147483647 AS h1,
               hashint8(k::bigint * 15485863 + ascii(right(j.job_id, 1)) * 31 + length(j.job_id)) & 2147483647 AS h2
      ) h
      CROSS JOIN LATERAL (
        SELECT ${batch.endAt}::timestamptz
               - make_interval(mins => (k - 1) * j.interval_minutes)
               - make_interval(secs => (h.h1 % 20)) AS started_at
      ) t
      CROSS JOIN LATERAL (
        SELECT CASE WHEN h.h1 % 50 = 3 THEN 'failed'::job_status
                    WHEN h.h1 % 200 = 11 THEN 'skipped'::job_status
                    ELSE 'completed'::job_status END AS status
      ) s
      CROSS JOIN LATERAL (
        -- Mostly near the typical duration, now and then five times longer.
        SELECT (j.typical_ms * (0.4 + (h.h2 % 1000) / 833.0) * CASE WHEN h.h2 % 97 = 0 THEN 5 ELSE 1 END)::int AS ms
      ) d
    `;
    return inserted.count;
  });
}

/**
 * Rebuilds the bench jobs' run counters (job_execution_stats) from their
 * rows, as the statement triggers would have kept them, and refreshes the
 * planner's statistics.
 */
export async function finishSeeding(sql: Sql): Promise<void> {
  const ids = BENCH_JOBS.map((job) => job.id);
  await sql.begin(async (tx) => {
    await tx`DELETE FROM job_execution_stats WHERE job_id = ANY(${ids}::text[])`;
    await tx`
      SELECT jobwatch_count_runs(ARRAY(
        SELECT (e.job_id, e.status, e.duration_ms, e.started_at)::jobwatch_counted_run
        FROM job_executions e
        WHERE e.job_id = ANY(${ids}::text[]) AND e.status <> 'running'))
    `;
  });
  await sql`VACUUM ANALYZE job_executions`;
}
