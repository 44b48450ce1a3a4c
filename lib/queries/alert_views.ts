/**
 * The read side of alerting, for the pages: alerts with their deliveries
 * (newest first, keyset paged), a job's alert state and policy, and a count
 * of recent failed deliveries. The write side is lib/queries/alerts.ts.
 */
import type postgres from "postgres";
import { type AlertPolicy, readAlertPolicy } from "../alerts/policy.ts";
import type { AlertChannelName, AlertRecord, DeliveryState } from "../alerts/types.ts";
import type { Queryable } from "../db/mod.ts";
import type { Cursor } from "../history.ts";
import { isUuid } from "../ids.ts";
import { cursorTime, keysetPage } from "./history.ts";

/** One alert_outbox row: an alert's delivery through one channel. */
export interface AlertDelivery {
  id: string;
  channel: AlertChannelName;
  /** E-mail: the addresses; webhook: the host. */
  recipients: string[];
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastError: string | null;
  sentAt: Date | null;
}

export interface AlertListItem extends AlertRecord {
  /** Raised while the job was snoozed: recorded, not delivered. */
  suppressed: boolean;
  /** Oldest first (e-mail before webhook, as queued). */
  deliveries: AlertDelivery[];
}

/**
 * What the delivery filter of the alerts page offers: alerts with at least
 * one delivery in that state (`pending` includes `sending`; `suppressed`
 * includes alerts raised while snoozed).
 */
export const ALERT_STATE_FILTERS = ["failed", "pending", "not_sent", "suppressed", "sent"] as const;
export type AlertStateFilter = typeof ALERT_STATE_FILTERS[number];

export interface AlertListQuery {
  jobId?: string;
  state?: AlertStateFilter;
  /** Older alerts than this cursor (its id is the alert's serial id: decode with "serial"). */
  after?: Cursor;
  /** Newer alerts than this cursor. */
  before?: Cursor;
  limit: number;
}

export interface AlertPage {
  alerts: AlertListItem[];
  /** Older alerts: pass as `after`. Null on the last page. */
  nextCursor: string | null;
  /** Newer alerts: pass as `before`. Null on the first page. */
  prevCursor: string | null;
}

type DeliveryJson = Omit<AlertDelivery, "nextAttemptAt" | "lastAttemptAt" | "sentAt"> & {
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  sentAt: number | null;
};

interface AlertRow extends AlertRecord {
  suppressed: boolean;
  cursorAt: string;
  deliveries: DeliveryJson[];
}

/** An instant as epoch milliseconds inside JSON, where a timestamp would lose its type. */
const epochMs = (sql: Queryable, column: postgres.Fragment) =>
  sql`(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * The alerts matching `conditions` (on `alerts a`), in `order`, with each
 * one's deliveries aggregated by a lateral subquery that runs only for the
 * rows the LIMIT keeps (through alert_outbox_alert_idx): one round trip, no N+1.
 */
function selectAlerts(
  sql: Queryable,
  conditions: postgres.Fragment[],
  order: postgres.Fragment,
  limit: number,
) {
  const where = conditions.length === 0
    ? sql``
    : sql`WHERE ${conditions.reduce((all, condition) => sql`${all} AND ${condition}`)}`;
  return sql<AlertRow[]>`
    SELECT a.id::text AS id, a.kind, a.job_id, d.display_name AS job_name, a.execution_id::text AS execution_id,
           a.details, a.suppressed, a.created_at,
           ${cursorTime(sql, sql`a.created_at`)} AS cursor_at,
           COALESCE(o.deliveries, '[]'::json) AS deliveries
    FROM alerts a
    JOIN job_definitions d ON d.id = a.job_id
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object(
               'id', o.id::text,
               'channel', o.channel,
               'recipients', o.recipients,
               'state', o.state,
               'attempts', o.attempts,
               'nextAttemptAt', ${epochMs(sql, sql`o.next_attempt_at`)},
               'lastAttemptAt', ${epochMs(sql, sql`o.last_attempt_at`)},
               'lastError', o.last_error,
               'sentAt', ${epochMs(sql, sql`o.sent_at`)}
             ) ORDER BY o.id) AS deliveries
      FROM alert_outbox o
      WHERE o.alert_id = a.id
    ) o ON true
    ${where}
    ORDER BY ${order}
    LIMIT ${limit}::int
  `;
}

function toItem({ cursorAt: _, deliveries, ...alert }: AlertRow): AlertListItem {
  const date = (ms: number | null) => ms === null ? null : new Date(ms);
  return {
    ...alert,
    deliveries: deliveries.map((delivery) => ({
      ...delivery,
      nextAttemptAt: new Date(delivery.nextAttemptAt),
      lastAttemptAt: date(delivery.lastAttemptAt),
      sentAt: date(delivery.sentAt),
    })),
  };
}

function stateCondition(sql: Queryable, state: AlertStateFilter): postgres.Fragment {
  const having = (states: postgres.Fragment) =>
    sql`EXISTS (SELECT 1 FROM alert_outbox o WHERE o.alert_id = a.id AND o.state IN ${states})`;
  switch (state) {
    case "pending":
      return having(sql`('pending', 'sending')`);
    case "suppressed":
      return sql`(a.suppressed OR ${having(sql`('suppressed')`)})`;
    case "failed":
      return having(sql`('failed')`);
    case "not_sent":
      return having(sql`('not_sent')`);
    case "sent":
      return having(sql`('sent')`);
  }
}

/**
 * A page of alerts with their deliveries, newest first, by keyset on
 * (created_at, id): alerts_created_idx, or alerts_job_idx for one job.
 */
export async function listAlerts(sql: Queryable, query: AlertListQuery): Promise<AlertPage> {
  const conditions: postgres.Fragment[] = [];
  if (query.jobId !== undefined) conditions.push(sql`a.job_id = ${query.jobId}`);
  if (query.state) conditions.push(stateCondition(sql, query.state));
  if (query.before) {
    conditions.push(
      sql`(a.created_at, a.id) > (${query.before.startedAt}::timestamptz, ${query.before.id}::bigint)`,
    );
  } else if (query.after) {
    conditions.push(
      sql`(a.created_at, a.id) < (${query.after.startedAt}::timestamptz, ${query.after.id}::bigint)`,
    );
  }
  const order = query.before ? sql`a.created_at ASC, a.id ASC` : sql`a.created_at DESC, a.id DESC`;
  const rows = await selectAlerts(sql, conditions, order, query.limit + 1);
  const page = keysetPage(rows, query);
  return { alerts: page.rows.map(toItem), nextCursor: page.nextCursor, prevCursor: page.prevCursor };
}

/** The alerts one execution raised, newest first (alerts_execution_idx); none for a malformed id. */
export async function listAlertsForExecution(sql: Queryable, executionId: string): Promise<AlertListItem[]> {
  if (!isUuid(executionId)) return [];
  const rows = await selectAlerts(
    sql,
    [sql`a.execution_id = ${executionId}::uuid`],
    sql`a.created_at DESC, a.id DESC`,
    100,
  );
  return rows.map(toItem);
}

/** A job's latest `limit` alerts, newest first (alerts_job_idx). */
export async function listAlertsForJob(
  sql: Queryable,
  jobId: string,
  limit: number,
): Promise<AlertListItem[]> {
  return (await listAlerts(sql, { jobId, limit })).alerts;
}

/** Where a job stands for alerting: its streak, lateness, warning, snooze and policy. */
export interface JobAlertStatus {
  consecutiveFailures: number;
  failingSince: Date | null;
  overdueSince: Date | null;
  durationWarning: "fast" | "slow" | null;
  /** May lie in the past: a snooze that has run out. */
  snoozedUntil: Date | null;
  /** The e-mail of who snoozed it. */
  snoozedBy: string | null;
  policy: AlertPolicy;
}

/** A job's alert status, or null when there is no such job. */
export async function getJobAlertStatus(sql: Queryable, jobId: string): Promise<JobAlertStatus | null> {
  const [row] = await sql<(Omit<JobAlertStatus, "policy"> & { alertPolicy: unknown })[]>`
    SELECT COALESCE(s.consecutive_failures, 0) AS consecutive_failures, s.failing_since, s.overdue_since,
           s.duration_warning, s.snoozed_until, s.snoozed_by, d.alert_policy
    FROM job_definitions d
    LEFT JOIN job_alert_state s ON s.job_id = d.id
    WHERE d.id = ${jobId}
  `;
  if (!row) return null;
  const { alertPolicy, ...status } = row;
  return { ...status, policy: readAlertPolicy(alertPolicy) };
}

/** How far back `countFailedDeliveries` looks. */
export const FAILED_DELIVERY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Deliveries that gave up in the 7 days before `now`, for a hint on the
 * alerts page. A scan of the outbox, which stays small: no index is kept
 * for a number shown once per page view.
 */
export async function countFailedDeliveries(sql: Queryable, now: Date = new Date()): Promise<number> {
  const since = new Date(now.getTime() - FAILED_DELIVERY_WINDOW_MS);
  const [{ count }] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count
    FROM alert_outbox
    WHERE state = 'failed' AND created_at > ${since}
  `;
  return count;
}
