/**
 * Factories for rows the tests need: `makeJob(sql, "digest")`,
 * `makeExecution(sql, { jobId: "digest", startedAt, status: "failed" })`.
 * They write straight to the tables and import nothing of the app, so the
 * query tests stay quick to load.
 */
import type { AlertRecord } from "../../lib/alerts/types.ts";
import type { Sql } from "../../lib/db/mod.ts";
import type { ExecutionStatus } from "../../lib/events.ts";
import type { JobContext, Trigger } from "../../lib/jobs/define.ts";

/** A job definition on `rate(1 hour)`, named after its id unless told. */
export async function makeJob(
  sql: Sql,
  id: string,
  options: { displayName?: string; retiredAt?: string } = {},
): Promise<void> {
  await sql`
    INSERT INTO job_definitions (id, display_name, schedule, retired_at)
    VALUES (${id}, ${options.displayName ?? id}, 'rate(1 hour)', ${options.retiredAt ?? null}::timestamptz)
  `;
}

export interface ExecutionFixture {
  jobId: string;
  /** With microseconds when it matters, e.g. '2027-03-01T10:00:00.000001Z'. */
  startedAt: string | Date;
  /** Completed unless told. */
  status?: ExecutionStatus;
  /** Scheduled unless told. */
  trigger?: Trigger;
  /** Sets completed_at this long after startedAt; without it the execution has no end. */
  durationMs?: number;
  triggeredBy?: string;
  retryOf?: string;
  errorMessage?: string;
  result?: unknown;
}

/** Inserts an execution with a period of its own and returns its id. */
export async function makeExecution(sql: Sql, fixture: ExecutionFixture): Promise<string> {
  const [{ id }] = await sql<{ id: string }[]>`
    INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, triggered_by, retry_of,
                                started_at, completed_at, error_message, result)
    VALUES (${fixture.jobId}, ${crypto.randomUUID()}, ${crypto.randomUUID()},
            ${fixture.status ?? "completed"}::job_status, ${fixture.trigger ?? "scheduled"},
            ${fixture.triggeredBy ?? null}::uuid, ${fixture.retryOf ?? null}::uuid,
            ${fixture.startedAt}::timestamptz,
            ${fixture.startedAt}::timestamptz + ${fixture.durationMs ?? null}::int * interval '1 millisecond',
            ${fixture.errorMessage ?? null},
            ${fixture.result === undefined ? null : sql.json(fixture.result as never)})
    RETURNING id
  `;
  return id;
}

/** The execution id of `makeAlertRecord`'s alert. */
export const ALERT_EXECUTION_ID = "5f0c1e7a-3b1d-4c55-9a55-6d1f2b0b9e01";

/** A failure alert of "Weekly Digest Email", as the channels get it (no database involved). */
export function makeAlertRecord(overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id: "42",
    kind: "failure",
    jobId: "weekly-digest",
    jobName: "Weekly Digest Email",
    executionId: ALERT_EXECUTION_ID,
    details: {
      consecutiveFailures: 1,
      errorMessage: "SMTP connection refused",
      periodKey: "2027-03-01T09:00:00Z",
      trigger: "scheduled",
      startedAt: "2027-03-01T09:00:00.000Z",
      completedAt: "2027-03-01T09:00:12.400Z",
      durationMs: 12_400,
    },
    createdAt: new Date("2027-03-01T09:00:13Z"),
    ...overrides,
  };
}

/** A handler's context as the runner gives it, with what the job logged collected in `lines`. */
export function makeJobContext(
  sql: Sql,
  signal: AbortSignal = new AbortController().signal,
): JobContext & { lines: string[] } {
  const lines: string[] = [];
  const write = (message: string) => void lines.push(message);
  return {
    signal,
    executionId: crypto.randomUUID(),
    periodKey: "test",
    trigger: "manual",
    sql,
    log: { info: write, warn: write, error: write },
    lines,
  };
}
