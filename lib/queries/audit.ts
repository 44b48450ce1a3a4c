/** Queries on `audit_events`: who did what, when, from where. */
import type { Queryable } from "../db/mod.ts";
import type { Cursor } from "../history.ts";
import { cursorTime, keysetPage } from "./history.ts";

export interface AuditEventInput {
  action: string;
  /** Defaults to the database's clock; pass the app's clock where time is injected. */
  occurredAt?: Date;
  actorId?: string | null;
  actorEmail?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  metadata?: Record<string, unknown>;
}

export async function recordAuditEvent(sql: Queryable, event: AuditEventInput): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO audit_events (occurred_at, action, actor_id, actor_email, target_type, target_id, ip, metadata)
    VALUES (COALESCE(${event.occurredAt ?? null}::timestamptz, now()), ${event.action}, ${
    event.actorId ?? null
  },
            ${event.actorEmail ?? null}, ${event.targetType ?? null}, ${event.targetId ?? null}, ${
    event.ip ?? null
  },
            ${sql.json((event.metadata ?? {}) as never)})
    RETURNING id::text
  `;
  return row.id;
}

/** Turns a provisional event into what it turned out to be (e.g. a sign-in attempt into a sign-in). */
export async function settleAuditEvent(
  sql: Queryable,
  id: string,
  outcome: {
    action: string;
    actorId?: string | null;
    actorEmail?: string | null;
    metadata?: Record<string, unknown>;
  },
): Promise<void> {
  await sql`
    UPDATE audit_events
    SET action = ${outcome.action}, actor_id = COALESCE(${outcome.actorId ?? null}::uuid, actor_id),
        actor_email = COALESCE(${outcome.actorEmail ?? null}, actor_email),
        metadata = ${sql.json((outcome.metadata ?? {}) as never)}
    WHERE id = ${id}::bigint
  `;
}

/**
 * Counts events of one action since `since`, by target id (case-insensitive)
 * or by ip. Uses audit_events_action_idx.
 */
export async function countRecentEvents(
  sql: Queryable,
  action: string,
  since: Date,
  by: { targetId: string } | { ip: string },
): Promise<number> {
  const filter = "targetId" in by ? sql`lower(target_id) = lower(${by.targetId})` : sql`ip = ${by.ip}`;
  const [{ count }] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count
    FROM audit_events
    WHERE action = ${action} AND occurred_at > ${since} AND ${filter}
  `;
  return count;
}

export interface AuditEvent {
  /** A serial number, as text. */
  id: string;
  /** ISO 8601. */
  occurredAt: string;
  actorEmail: string | null;
  /** The actor's current name; null when there was none or the user is gone. */
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  metadata: Record<string, unknown>;
}

/**
 * A page of the audit log, newest first, by keyset on (occurred_at, id)
 * through audit_events_occurred_at_idx. Cursors hold the event's serial id:
 * decode them with `decodeCursor(text, "serial")`.
 */
export async function listAuditEvents(
  sql: Queryable,
  query: { limit: number; after?: Cursor; before?: Cursor },
): Promise<{ events: AuditEvent[]; nextCursor: string | null; prevCursor: string | null }> {
  let position = sql``;
  if (query.before) {
    position =
      sql`WHERE (a.occurred_at, a.id) > (${query.before.startedAt}::timestamptz, ${query.before.id}::bigint)`;
  } else if (query.after) {
    position =
      sql`WHERE (a.occurred_at, a.id) < (${query.after.startedAt}::timestamptz, ${query.after.id}::bigint)`;
  }
  const order = query.before ? sql`a.occurred_at ASC, a.id ASC` : sql`a.occurred_at DESC, a.id DESC`;
  const records = await sql<(Omit<AuditEvent, "occurredAt"> & { occurredAt: Date; cursorAt: string })[]>`
    SELECT a.id::text AS id, a.occurred_at, a.actor_email, u.name AS actor_name, a.action,
           a.target_type, a.target_id, a.ip, a.metadata,
           ${cursorTime(sql, sql`a.occurred_at`)} AS cursor_at
    FROM audit_events a
    LEFT JOIN users u ON u.id = a.actor_id
    ${position}
    ORDER BY ${order}
    LIMIT ${query.limit + 1}::int
  `;
  const page = keysetPage(records, query);
  return {
    events: page.rows.map(({ cursorAt: _, occurredAt, ...event }) => ({
      ...event,
      occurredAt: occurredAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
    prevCursor: page.prevCursor,
  };
}
