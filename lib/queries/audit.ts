/** Queries on `audit_events`: who did what, when, from where. */
import type { Queryable } from "../db/mod.ts";

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
