/**
 * The write side of alerting: a job's alert state (locked while it
 * changes), alerts with their outbox rows, and the delivery worker's claims.
 * Pages read through lib/queries/alert_views.ts.
 */
import type { AlertState, FinishedRun } from "../alerts/policy.ts";
import type {
  AlertChannelName,
  AlertDetails,
  AlertKind,
  AlertRecord,
  DeliveryState,
} from "../alerts/types.ts";
import type { Queryable } from "../db/mod.ts";
import { latestRunsJoin } from "./latest_runs.ts";

export interface LockedAlertState {
  jobId: string;
  jobName: string;
  /** As stored in job_definitions.alert_policy; read with `readAlertPolicy`. */
  alertPolicy: unknown;
  state: AlertState;
  snoozedUntil: Date | null;
}

/** A job_alert_state row with its job's name and policy, as selected (the state's columns flat). */
interface StateRow extends AlertState {
  jobId: string;
  jobName: string;
  alertPolicy: unknown;
  snoozedUntil: Date | null;
}

/**
 * Locks these jobs' alert state rows, in job id order (so two transactions
 * never wait on each other in opposite orders), and returns them with each
 * job's policy. Must run inside a transaction.
 */
export async function lockAlertStates(
  tx: Queryable,
  jobIds: string[],
): Promise<Map<string, LockedAlertState>> {
  const ids = [...new Set(jobIds)].sort();
  if (ids.length === 0) return new Map();
  const select = () =>
    tx<StateRow[]>`
      SELECT s.job_id, d.display_name AS job_name, d.alert_policy, s.consecutive_failures, s.failing_since,
             s.last_failure_alert_at, s.duration_warning, s.overdue_since, s.alert_owed, s.snoozed_until
      FROM job_alert_state s JOIN job_definitions d ON d.id = s.job_id
      WHERE s.job_id = ANY(${tx.array(ids)}::text[])
      ORDER BY s.job_id
      FOR NO KEY UPDATE OF s
    `;
  let rows = await select();
  if (rows.length < ids.length) {
    // Every job gets its row when it is inserted (a trigger) or by migration 0005; this is a safety net.
    await tx`
      INSERT INTO job_alert_state (job_id)
      SELECT id FROM job_definitions WHERE id = ANY(${tx.array(ids)}::text[])
      ON CONFLICT (job_id) DO NOTHING
    `;
    rows = await select();
  }
  return new Map(rows.map((row) => [row.jobId, {
    jobId: row.jobId,
    jobName: row.jobName,
    alertPolicy: row.alertPolicy,
    snoozedUntil: row.snoozedUntil,
    state: stateOf(row),
  }]));
}

function stateOf(row: StateRow): AlertState {
  return {
    consecutiveFailures: row.consecutiveFailures,
    failingSince: row.failingSince,
    lastFailureAlertAt: row.lastFailureAlertAt,
    durationWarning: row.durationWarning,
    overdueSince: row.overdueSince,
    alertOwed: row.alertOwed,
  };
}

/** Writes a job's alert state (its row is locked by `lockAlertStates`). */
export async function saveAlertState(
  tx: Queryable,
  jobId: string,
  state: AlertState,
  now: Date,
): Promise<void> {
  await tx`
    UPDATE job_alert_state SET
      consecutive_failures = ${state.consecutiveFailures}, failing_since = ${state.failingSince},
      last_failure_alert_at = ${state.lastFailureAlertAt}, duration_warning = ${state.durationWarning},
      overdue_since = ${state.overdueSince}, alert_owed = ${state.alertOwed}, updated_at = ${now}
    WHERE job_id = ${jobId}
  `;
}

/** Finished runs, with their jobs' alert states locked: what the policy needs to decide on them. */
export interface FinishedRunsToDecide {
  /** Oldest completion first. */
  runs: (FinishedRun & { jobId: string })[];
  states: Map<string, LockedAlertState>;
}

/**
 * The finished ones of these runs (completed or failed; others are left
 * out), and their jobs' alert state rows, locked in job id order like
 * `lockAlertStates`: one statement. Must run inside a transaction.
 */
export async function lockFinishedRuns(tx: Queryable, executionIds: string[]): Promise<FinishedRunsToDecide> {
  if (executionIds.length === 0) return { runs: [], states: new Map() };
  const select = () =>
    tx<(StateRow & FinishedRun & { jobsFinished: number })[]>`
      WITH runs AS (
        SELECT id, job_id, status, period_key, trigger, started_at, completed_at, duration_ms, error_message
        FROM job_executions
        WHERE id = ANY(${tx.array(executionIds)}::uuid[]) AND status IN ('completed', 'failed')
          AND completed_at IS NOT NULL
      )
      SELECT r.id AS execution_id, r.status, r.period_key, r.trigger, r.started_at, r.completed_at, r.duration_ms,
             r.error_message, (SELECT count(DISTINCT job_id) FROM runs)::int AS jobs_finished,
             s.job_id, d.display_name AS job_name, d.alert_policy, s.consecutive_failures, s.failing_since,
             s.last_failure_alert_at, s.duration_warning, s.overdue_since, s.alert_owed, s.snoozed_until
      FROM runs r
      JOIN job_alert_state s ON s.job_id = r.job_id
      JOIN job_definitions d ON d.id = r.job_id
      ORDER BY s.job_id
      FOR NO KEY UPDATE OF s
    `;
  let rows = await select();
  if (rows.length === 0 || new Set(rows.map((row) => row.jobId)).size < rows[0].jobsFinished) {
    // Every job gets its row when it is inserted (a trigger) or by migration 0005; this is a safety net.
    await tx`
      INSERT INTO job_alert_state (job_id)
      SELECT DISTINCT job_id FROM job_executions WHERE id = ANY(${tx.array(executionIds)}::uuid[])
      ON CONFLICT (job_id) DO NOTHING
    `;
    rows = await select();
  }
  const states = new Map<string, LockedAlertState>();
  for (const row of rows) {
    states.set(row.jobId, {
      jobId: row.jobId,
      jobName: row.jobName,
      alertPolicy: row.alertPolicy,
      snoozedUntil: row.snoozedUntil,
      state: stateOf(row),
    });
  }
  const runs = rows.map((row) => ({
    executionId: row.executionId,
    jobId: row.jobId,
    status: row.status,
    periodKey: row.periodKey,
    trigger: row.trigger,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    durationMs: row.durationMs,
    errorMessage: row.errorMessage,
  }));
  runs.sort((a, b) =>
    a.completedAt.getTime() - b.completedAt.getTime() ||
    (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0)
  );
  return { runs, states };
}

/** A job's latest failed run, for a reminder. */
export async function getLatestFailure(
  sql: Queryable,
  jobId: string,
): Promise<{ executionId: string; errorMessage: string | null } | null> {
  const [row] = await sql<{ executionId: string; errorMessage: string | null }[]>`
    SELECT id AS execution_id, error_message FROM job_executions
    WHERE job_id = ${jobId} AND status = 'failed'        -- job_executions_job_status_started_idx
    ORDER BY started_at DESC, id DESC LIMIT 1
  `;
  return row ?? null;
}

/** The addresses alerts go to: every admin user's, then ALERT_TO's, without repeats. */
export async function listAlertRecipients(sql: Queryable, alertTo: string[]): Promise<string[]> {
  const admins = await sql<{ email: string }[]>`SELECT email FROM users WHERE role = 'admin' ORDER BY email`;
  return [...new Set([...admins.map((a) => a.email), ...alertTo.map((a) => a.toLowerCase())])];
}

/** One outbox row to create with an alert. */
export interface NewDelivery {
  channel: AlertChannelName;
  recipients: string[];
  state: "pending" | "suppressed" | "not_sent";
  /** Why it is not sent (not_sent), shown on the pages. */
  note: string | null;
}

/** Inserts an alert and its outbox rows; returns the alert's id. */
export async function insertAlert(
  tx: Queryable,
  alert: {
    jobId: string;
    jobName: string;
    executionId: string | null;
    kind: AlertKind;
    details: AlertDetails;
    suppressed: boolean;
    createdAt: Date;
  },
  deliveries: NewDelivery[],
): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    INSERT INTO alerts (job_id, job_name, execution_id, kind, details, suppressed, created_at)
    VALUES (${alert.jobId}, ${alert.jobName}, ${alert.executionId}, ${alert.kind}, ${
    tx.json(alert.details as never)
  },
            ${alert.suppressed}, ${alert.createdAt})
    RETURNING id::text
  `;
  for (const delivery of deliveries) {
    await tx`
      INSERT INTO alert_outbox (alert_id, channel, recipients, state, last_error, next_attempt_at, created_at)
      VALUES (${row.id}::bigint, ${delivery.channel}, ${
      tx.array(delivery.recipients)
    }::text[], ${delivery.state},
              ${delivery.note}, ${alert.createdAt}, ${alert.createdAt})
    `;
  }
  return row.id;
}

/** An outbox row a worker has claimed, with the alert to render. */
export interface ClaimedDelivery {
  id: string;
  /** The row's random key, sent as the Idempotency-Key on every attempt. */
  deliveryKey: string;
  channel: AlertChannelName;
  recipients: string[];
  /** Including this one. */
  attempts: number;
  alert: AlertRecord;
}

interface ClaimRow {
  id: string;
  deliveryKey: string;
  channel: AlertChannelName;
  recipients: string[];
  attempts: number;
  alertId: string;
  kind: AlertKind;
  jobId: string;
  jobName: string;
  executionId: string | null;
  details: AlertDetails;
  createdAt: Date;
}

/**
 * Claims up to `limit` deliveries that are due: pending ones whose time has
 * come and 'sending' ones whose lease ran out (their worker died). Rows
 * another worker holds are skipped (FOR UPDATE SKIP LOCKED), so each row is
 * claimed by one worker; the claim is 'sending' with a lease of `leaseMs`.
 */
export async function claimDeliveries(
  sql: Queryable,
  options: { now: Date; leaseMs: number; limit: number; instanceId: string },
): Promise<ClaimedDelivery[]> {
  const leaseUntil = new Date(options.now.getTime() + options.leaseMs);
  const rows = await sql<ClaimRow[]>`
    WITH claimed AS (
      UPDATE alert_outbox o
      SET state = 'sending', attempts = o.attempts + 1, next_attempt_at = ${leaseUntil},
          claimed_by = ${options.instanceId}, last_attempt_at = ${options.now}
      WHERE o.id IN (
        SELECT id FROM alert_outbox
        WHERE state IN ('pending', 'sending') AND next_attempt_at <= ${options.now}   -- alert_outbox_due_idx
        ORDER BY next_attempt_at, id
        LIMIT ${options.limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING o.id, o.delivery_key, o.alert_id, o.channel, o.recipients, o.attempts
    )
    SELECT c.id::text, c.delivery_key::text, c.channel, c.recipients, c.attempts, a.id::text AS alert_id,
           a.kind, a.job_id, a.job_name, a.execution_id, a.details, a.created_at
    FROM claimed c
    JOIN alerts a ON a.id = c.alert_id
    ORDER BY c.id
  `;
  return rows.map((row) => ({
    id: row.id,
    deliveryKey: row.deliveryKey,
    channel: row.channel,
    recipients: row.recipients,
    attempts: row.attempts,
    alert: {
      id: row.alertId,
      kind: row.kind,
      jobId: row.jobId,
      jobName: row.jobName,
      executionId: row.executionId,
      details: row.details,
      createdAt: row.createdAt,
    },
  }));
}

/** What became of a claimed delivery. */
export type DeliveryOutcome =
  | { state: "sent"; at: Date; providerId: string | null }
  | { state: "pending"; nextAttemptAt: Date; error: string }
  | { state: "failed"; error: string };

/**
 * Records a claimed delivery's outcome, only if the claim is still this
 * worker's (same attempt): a worker whose lease ran out and whose row was
 * claimed again must not overwrite the newer attempt. Returns whether it did.
 */
export async function recordDeliveryOutcome(
  sql: Queryable,
  claim: { id: string; attempts: number; instanceId: string },
  outcome: DeliveryOutcome,
): Promise<boolean> {
  const state: DeliveryState = outcome.state;
  const rows = await sql`
    UPDATE alert_outbox SET
      state = ${state},
      sent_at = ${outcome.state === "sent" ? outcome.at : null},
      provider_id = ${outcome.state === "sent" ? outcome.providerId : null},
      last_error = ${outcome.state === "sent" ? null : outcome.error},
      next_attempt_at = ${outcome.state === "pending" ? outcome.nextAttemptAt : sql`next_attempt_at`}
    WHERE id = ${claim.id}::bigint AND state = 'sending' AND attempts = ${claim.attempts}
      AND claimed_by = ${claim.instanceId}
    RETURNING id
  `;
  return rows.length > 0;
}

/** When the next delivery is due (pending, or a lease running out); null when none is. */
export async function nextDeliveryDue(sql: Queryable): Promise<Date | null> {
  const [row] = await sql<{ due: Date | null }[]>`
    SELECT min(next_attempt_at) AS due FROM alert_outbox WHERE state IN ('pending', 'sending')
  `;
  return row?.due ?? null;
}

/** What the clock's alert sweep needs of an enabled job. */
export interface WatchedJob {
  jobId: string;
  maxAgeHours: number | null;
  alertPolicy: unknown;
  /** The later of the job's creation and when it was last enabled. */
  watchFrom: Date;
  /** The last start of a run that was not skipped. */
  lastStartedAt: Date | null;
  running: boolean;
  snoozedUntil: Date | null;
  state: AlertState;
}

/** Every enabled, current job with its alert state and last start, in one statement. */
export async function listWatchedJobs(sql: Queryable): Promise<WatchedJob[]> {
  const rows = await sql<(Omit<WatchedJob, "state"> & StateRow)[]>`
    SELECT d.id AS job_id, d.display_name AS job_name, d.max_age_hours::float8 AS max_age_hours,
           d.alert_policy, GREATEST(d.created_at, s.watch_from) AS watch_from,
           s.consecutive_failures, s.failing_since, s.last_failure_alert_at, s.duration_warning,
           s.overdue_since, s.alert_owed, s.snoozed_until,
           GREATEST(latest.last_success_at, latest.last_failure_at, latest.running_since) AS last_started_at,
           latest.running_since IS NOT NULL AS running
    FROM job_definitions d
    JOIN job_alert_state s ON s.job_id = d.id
    ${latestRunsJoin(sql)}
    WHERE d.enabled AND d.retired_at IS NULL
  `;
  return rows.map((row) => ({
    jobId: row.jobId,
    maxAgeHours: row.maxAgeHours,
    alertPolicy: row.alertPolicy,
    watchFrom: row.watchFrom,
    lastStartedAt: row.lastStartedAt,
    running: row.running,
    snoozedUntil: row.snoozedUntil,
    state: stateOf(row),
  }));
}
