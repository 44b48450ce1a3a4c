/**
 * Inserts for runs reported over the runs API. Like lib/queries/executions.ts,
 * each is one statement that returns what it changed; it also checks the
 * reporter's token and job, and inserts only if the (job, period) is new:
 * the UNIQUE (job_id, period_key) makes a repeated report idempotent across
 * instances.
 */
import type postgres from "postgres";
import type { Queryable } from "../db/mod.ts";
import type { ExecutionStatus } from "../events.ts";
import type { Changed } from "./executions.ts";
import { liveTokenCtes } from "./tokens.ts";

function jsonOrNull(sql: Queryable, value: unknown) {
  return value === null || value === undefined ? null : sql.json(value as never);
}

/** What an insert on a job's behalf found and did. */
export interface ReporterInsert {
  /** The job of the token presented, or null when it is unknown or revoked. */
  tokenJobId: string | null;
  /** The job's row, when the token is one of its own. */
  definition: { enabled: boolean; retired: boolean } | null;
  /** The run it inserted; null when refused, or when the (job, period) already has a run. */
  inserted: Changed | null;
}

/** Who inserts a run: the bearer of a token, for a job; `recordable` is the code's say (declared, external). */
export interface Reporter {
  tokenHash: string;
  jobId: string;
  recordable: boolean;
  now: Date;
}

/**
 * Runs `insert` (an `INSERT INTO job_executions (…) SELECT … ` over the
 * `definition` row) in the statement that checks the reporter: the token
 * is a live one of this job, and the job is enabled and not retired. A
 * report is so one statement; when it inserts nothing, the result says why.
 */
async function insertAsReporter(
  sql: Queryable,
  reporter: Reporter,
  insert: postgres.Fragment,
): Promise<ReporterInsert> {
  const [row] = await sql<{
    tokenJobId: string | null;
    enabled: boolean | null;
    retired: boolean | null;
    id: string | null;
    status: ExecutionStatus | null;
  }[]>`
    WITH ${liveTokenCtes(sql, reporter.tokenHash, reporter.now)},
    definition AS (
      SELECT d.id, d.enabled, d.retired_at IS NOT NULL AS retired
      FROM job_definitions d JOIN live ON live.job_id = d.id
      WHERE d.id = ${reporter.jobId}
    ),
    inserted AS (
      ${insert}
      FROM definition
      WHERE definition.enabled AND NOT definition.retired AND ${reporter.recordable}::boolean
      ON CONFLICT (job_id, period_key) DO NOTHING
      RETURNING id, status
    )
    SELECT (SELECT job_id FROM live) AS token_job_id, definition.enabled, definition.retired,
           inserted.id, inserted.status
    FROM (SELECT) AS one
    LEFT JOIN definition ON true
    LEFT JOIN inserted ON true
  `;
  return {
    tokenJobId: row.tokenJobId,
    definition: row.enabled === null ? null : { enabled: row.enabled, retired: row.retired! },
    inserted: row.id ? { executionId: row.id, jobId: reporter.jobId, status: row.status! } : null,
  };
}

/** Inserts a `running` external run, if the reporter may and its (job, period) has none. */
export async function insertExternalStart(
  sql: Queryable,
  reporter: Reporter,
  run: { periodKey: string; executionId: string; metadata: Record<string, unknown> | null },
): Promise<ReporterInsert> {
  return await insertAsReporter(
    sql,
    reporter,
    sql`
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at, metadata)
      SELECT definition.id, ${run.periodKey}::text, ${run.executionId}::text, 'running'::job_status, 'external',
             ${reporter.now}::timestamptz, ${jsonOrNull(sql, run.metadata)}::jsonb
    `,
  );
}

/** Inserts a finished external run in one go, if the reporter may and its (job, period) has none. */
export async function insertExternalReport(
  sql: Queryable,
  reporter: Reporter,
  report: {
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
): Promise<ReporterInsert> {
  return await insertAsReporter(
    sql,
    reporter,
    sql`
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at,
                                  completed_at, result, error_message, metadata, exit_code, log)
      SELECT definition.id, ${report.periodKey}::text, ${report.executionId}::text, ${report.status}::job_status,
             'external', ${report.startedAt}::timestamptz, ${report.completedAt}::timestamptz,
             ${jsonOrNull(sql, report.result)}::jsonb, ${report.errorMessage}::text,
             ${jsonOrNull(sql, report.metadata)}::jsonb, ${report.exitCode}::integer, ${report.log}::text
    `,
  );
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
