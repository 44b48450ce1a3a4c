/**
 * Inserts for runs reported over the runs API. Like lib/queries/executions.ts,
 * each is one statement that returns what it changed, and each inserts
 * only if the (job, period) is new: the UNIQUE (job_id, period_key) makes a
 * repeated report idempotent across instances.
 */
import type { Queryable } from "../db/mod.ts";
import type { ExecutionStatus } from "../events.ts";
import type { Changed } from "./executions.ts";

function jsonOrNull(sql: Queryable, value: unknown) {
  return value === null || value === undefined ? null : sql.json(value as never);
}

/** Inserts a `running` external run; null when its (job, period) already has an execution. */
export async function insertExternalStart(
  sql: Queryable,
  run: {
    jobId: string;
    periodKey: string;
    executionId: string;
    startedAt: Date;
    metadata: Record<string, unknown> | null;
  },
): Promise<Changed | null> {
  const [row] = await sql<Changed[]>`
    WITH inserted AS (
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at, metadata)
      VALUES (${run.jobId}, ${run.periodKey}, ${run.executionId}, 'running', 'external', ${run.startedAt},
              ${jsonOrNull(sql, run.metadata)})
      ON CONFLICT (job_id, period_key) DO NOTHING
      RETURNING id, job_id, status
    )
    SELECT id AS execution_id, job_id, status FROM inserted
  `;
  return row ? { executionId: row.executionId, jobId: row.jobId, status: row.status } : null;
}

/** Inserts a finished external run in one go; null when its (job, period) already has an execution. */
export async function insertExternalReport(
  sql: Queryable,
  report: {
    jobId: string;
    periodKey: string;
    executionId: string;
    status: "completed" | "failed";
    startedAt: Date;
    completedAt: Date;
    result: unknown;
    errorMessage: string | null;
    metadata: Record<string, unknown> | null;
    exitCode: number | null;
    log: string | null;
  },
): Promise<Changed | null> {
  const [row] = await sql<Changed[]>`
    WITH inserted AS (
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at,
                                  completed_at, result, error_message, metadata, exit_code, log)
      VALUES (${report.jobId}, ${report.periodKey}, ${report.executionId}, ${report.status}::job_status,
              'external', ${report.startedAt}, ${report.completedAt}, ${jsonOrNull(sql, report.result)},
              ${report.errorMessage}, ${jsonOrNull(sql, report.metadata)}, ${report.exitCode}, ${report.log})
      ON CONFLICT (job_id, period_key) DO NOTHING
      RETURNING id, job_id, status
    )
    SELECT id AS execution_id, job_id, status FROM inserted
  `;
  return row ? { executionId: row.executionId, jobId: row.jobId, status: row.status } : null;
}

/** The execution of a job's period, if any. Uses the UNIQUE (job_id, period_key) index. */
export async function findPeriodExecution(
  sql: Queryable,
  jobId: string,
  periodKey: string,
): Promise<{ id: string; status: ExecutionStatus } | null> {
  const [row] = await sql<{ id: string; status: ExecutionStatus }[]>`
    SELECT id, status FROM job_executions WHERE job_id = ${jobId} AND period_key = ${periodKey}
  `;
  return row ?? null;
}
