/**
 * Every state change of an execution is one statement guarded by
 * `status = 'running'`, so a late completion cannot overwrite a timeout or a
 * reap. Each returns what it changed, for the caller to publish once the
 * change has committed (lib/events.ts forwards it to other instances).
 */
import type { Queryable } from "../db/mod.ts";
import type { ExecutionEvent, ExecutionStatus } from "../events.ts";
import type { Trigger } from "../jobs/define.ts";
import { isUuid } from "../ids.ts";
import { liveTokenCtes } from "./tokens.ts";

export interface Execution {
  id: string;
  jobId: string;
  periodKey: string;
  executionId: string;
  status: ExecutionStatus;
  trigger: Trigger;
  triggeredBy: string | null;
  startedAt: Date;
  completedAt: Date | null;
  durationMs: number | null;
  result: unknown;
  errorMessage: string | null;
  metadata: Record<string, unknown> | null;
  retryOf: string | null;
  exitCode: number | null;
  log: string | null;
}

/** A changed execution, as published on the bus. */
export type Changed = Omit<ExecutionEvent, "instanceId">;

export interface DueExecution {
  jobId: string;
  periodKey: string;
  startedAt: Date;
  /** Recorded as skipped (with `reason`) instead of run. */
  skipReason: string | null;
  /** With concurrency 'skip': record as skipped when a run of the job is still running. */
  skipIfRunning: boolean;
}

/**
 * Inserts due scheduled executions in one statement, each only if its
 * (job, period) is new. Returns the rows this call inserted: on several
 * instances, exactly one wins each period. Given a transaction, it inserts
 * (and takes its locks) in it; given the pool, in a transaction of its own.
 */
export async function insertDueExecutions(
  sql: Queryable,
  due: DueExecution[],
): Promise<(Changed & { periodKey: string })[]> {
  if (due.length === 0) return [];
  // Manual runs of a 'skip' job check for a running one under this job's advisory
  // lock (lib/jobs/trigger.ts); taking the same locks here, in one transaction with
  // the insert, keeps a tick and a "Run now" from both starting a run.
  const skipJobs = [...new Set(due.filter((d) => d.skipIfRunning).map((d) => d.jobId))].sort();
  if (skipJobs.length === 0) return await insertDue(sql, due);
  const lockAndInsert = async (tx: Queryable) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(id)) FROM unnest(${tx.array(skipJobs)}::text[]) AS id`;
    return await insertDue(tx, due);
  };
  return "begin" in sql ? await sql.begin(lockAndInsert) : await lockAndInsert(sql);
}

function insertDue(
  sql: Queryable,
  due: DueExecution[],
): Promise<(Changed & { periodKey: string })[]> {
  return sql<(Changed & { periodKey: string })[]>`
    WITH due AS (
      SELECT * FROM unnest(
        ${sql.array(due.map((d) => d.jobId))}::text[],
        ${sql.array(due.map((d) => d.periodKey))}::text[],
        ${sql.array(due.map((d) => d.startedAt.toISOString()))}::timestamptz[],
        ${sql.array(due.map((d) => d.skipReason ?? ""))}::text[],
        ${sql.array(due.map((d) => d.skipIfRunning))}::boolean[]
      ) AS d(job_id, period_key, started_at, skip_reason, skip_if_running)
    ),
    decided AS (
      SELECT due.job_id, due.period_key, due.started_at,
             CASE
               WHEN due.skip_reason <> '' THEN due.skip_reason
               WHEN due.skip_if_running AND EXISTS (
                 SELECT 1 FROM job_executions r          -- job_executions_running_idx
                 WHERE r.job_id = due.job_id AND r.status = 'running'
               ) THEN 'overlap: the previous run was still running'
             END AS reason
      FROM due
    ),
    inserted AS (
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at,
                                  completed_at, metadata)
      SELECT job_id, period_key, gen_random_uuid()::text,
             CASE WHEN reason IS NULL THEN 'running' ELSE 'skipped' END::job_status,
             'scheduled', started_at,
             CASE WHEN reason IS NULL THEN NULL ELSE started_at END,
             CASE WHEN reason IS NULL THEN NULL ELSE jsonb_build_object('reason', reason) END
      FROM decided
      ON CONFLICT (job_id, period_key) DO NOTHING
      RETURNING id, job_id, status, period_key
    )
    SELECT id AS execution_id, job_id, status, period_key
    FROM inserted
  `.then((rows) =>
    rows.map(({ executionId, jobId, status, periodKey }) => ({ executionId, jobId, status, periodKey }))
  );
}

/** Inserts a manual run (or a retry) as running; the caller audits it in the same transaction. */
export async function insertManualExecution(
  sql: Queryable,
  run: {
    jobId: string;
    periodKey: string;
    startedAt: Date;
    triggeredBy: string | null;
    retryOf: string | null;
  },
): Promise<Changed> {
  const [row] = await sql<Changed[]>`
    WITH inserted AS (
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, triggered_by,
                                  started_at, retry_of)
      VALUES (${run.jobId}, ${run.periodKey}, gen_random_uuid()::text, 'running', 'manual',
              ${run.triggeredBy}, ${run.startedAt}, ${run.retryOf})
      RETURNING id, job_id, status
    )
    SELECT id AS execution_id, job_id, status FROM inserted
  `;
  return { executionId: row.executionId, jobId: row.jobId, status: row.status };
}

/**
 * Who finishes a run over the runs API: the bearer of a live token of the
 * run's job, and only a run that was started there (trigger `external`).
 * The check is part of the update, so a report is one statement; when it
 * changes nothing, the caller finds out why.
 */
export interface ReporterGuard {
  tokenHash: string;
  now: Date;
}

function reporterCtes(sql: Queryable, guard: ReporterGuard | undefined) {
  return guard ? sql`${liveTokenCtes(sql, guard.tokenHash, guard.now)},` : sql``;
}

function reporterCondition(sql: Queryable, guard: ReporterGuard | undefined) {
  return guard ? sql`AND trigger = 'external' AND job_id = (SELECT job_id FROM live)` : sql``;
}

/** Marks a running execution completed; null when it was no longer running (or `guard` refused it). */
export async function completeExecution(
  sql: Queryable,
  id: string,
  outcome: { completedAt: Date; result: unknown; exitCode?: number | null; log?: string | null },
  guard?: ReporterGuard,
): Promise<Changed | null> {
  if (!isUuid(id)) return null;
  const [row] = await sql<Changed[]>`
    WITH ${reporterCtes(sql, guard)}
    changed AS (
      UPDATE job_executions
      SET status = 'completed', completed_at = ${outcome.completedAt},
          result = ${outcome.result === null ? null : sql.json(outcome.result as never)},
          exit_code = ${outcome.exitCode ?? null}, log = ${outcome.log ?? null}
      WHERE id = ${id} AND status = 'running' ${reporterCondition(sql, guard)}
      RETURNING id, job_id, status
    )
    SELECT id AS execution_id, job_id, status FROM changed
  `;
  return row ? { executionId: row.executionId, jobId: row.jobId, status: row.status } : null;
}

/** Marks a running execution failed; null when it was no longer running (or `guard` refused it). */
export async function failExecution(
  sql: Queryable,
  id: string,
  outcome: {
    completedAt: Date;
    errorMessage: string;
    metadata?: Record<string, unknown>;
    exitCode?: number | null;
    log?: string | null;
  },
  guard?: ReporterGuard,
): Promise<Changed | null> {
  if (!isUuid(id)) return null;
  const [row] = await sql<Changed[]>`
    WITH ${reporterCtes(sql, guard)}
    changed AS (
      UPDATE job_executions
      SET status = 'failed', completed_at = ${outcome.completedAt},
          error_message = ${outcome.errorMessage},
          metadata = COALESCE(metadata, '{}'::jsonb) || ${sql.json((outcome.metadata ?? {}) as never)},
          exit_code = ${outcome.exitCode ?? null}, log = ${outcome.log ?? null}
      WHERE id = ${id} AND status = 'running' ${reporterCondition(sql, guard)}
      RETURNING id, job_id, status
    )
    SELECT id AS execution_id, job_id, status FROM changed
  `;
  return row ? { executionId: row.executionId, jobId: row.jobId, status: row.status } : null;
}

/**
 * Fails executions left running past their deadline (start + the job's
 * timeout when the run began) plus `graceMs`: their process died. Returns
 * what it reaped.
 */
export async function reapLostExecutions(
  sql: Queryable,
  now: Date,
  graceMs: number,
): Promise<Changed[]> {
  return await sql<Changed[]>`
    WITH changed AS (
      UPDATE job_executions e
      -- Failed as of its deadline (at most a day after it started), which also
      -- keeps duration_ms, an INTEGER, from overflowing after long downtime.
      SET status = 'failed',
          completed_at = LEAST(${now}::timestamptz, COALESCE(e.deadline_at, e.started_at
            + make_interval(secs => d.timeout_seconds)) + make_interval(secs => ${
    graceMs / 1000
  }::double precision)),
          error_message = 'lost: no completion reported',
          metadata = COALESCE(e.metadata, '{}'::jsonb) || jsonb_build_object('reapedAt', ${now.toISOString()}::text)
      FROM job_definitions d
      WHERE d.id = e.job_id
        AND e.status = 'running'                 -- job_executions_running_idx
        AND COALESCE(e.deadline_at, e.started_at + make_interval(secs => d.timeout_seconds))
              < ${now}::timestamptz - make_interval(secs => ${graceMs / 1000}::double precision)
      RETURNING e.id, e.job_id, e.status
    )
    SELECT id AS execution_id, job_id, status FROM changed
  `.then((rows) => rows.map(({ executionId, jobId, status }) => ({ executionId, jobId, status })));
}

export async function getExecution(sql: Queryable, id: string): Promise<Execution | null> {
  if (!isUuid(id)) return null;
  const [row] = await sql<Execution[]>`
    SELECT id, job_id, period_key, execution_id, status, trigger, triggered_by, started_at, completed_at,
           duration_ms, result, error_message, metadata, retry_of, exit_code, log
    FROM job_executions WHERE id = ${id}
  `;
  return row ?? null;
}
