/** Queries on `sessions`. Only SHA-256 hashes of session ids are stored. */
import type { Queryable } from "../db/mod.ts";
import type { User } from "./users.ts";

export interface SessionUser extends User {
  sessionIdHash: string;
  lastSeenAt: Date;
}

export async function insertSession(
  sql: Queryable,
  session: {
    idHash: string;
    userId: string;
    createdAt: Date;
    expiresAt: Date;
    ip: string | null;
    userAgent: string | null;
  },
): Promise<void> {
  await sql`
    INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
    VALUES (${session.idHash}, ${session.userId}, ${session.createdAt}, ${session.createdAt},
            ${session.expiresAt}, ${session.ip}, ${session.userAgent})
  `;
}

/**
 * Returns the user of a live session: not past its absolute expiry and
 * seen within the idle timeout. Null for an unknown or expired session.
 */
export async function getSessionUser(
  sql: Queryable,
  idHash: string,
  idleTimeoutMs: number,
  now: Date,
): Promise<SessionUser | null> {
  const idleCutoff = new Date(now.getTime() - idleTimeoutMs);
  const [row] = await sql<SessionUser[]>`
    SELECT u.id, u.email, u.name, u.role, u.created_at,
           s.id_hash AS session_id_hash, s.last_seen_at
    FROM sessions s
    JOIN users u ON u.id = s.user_id
    WHERE s.id_hash = ${idHash}
      AND s.expires_at > ${now}
      AND s.last_seen_at > ${idleCutoff}
  `;
  return row ?? null;
}

export async function touchSession(sql: Queryable, idHash: string, now: Date): Promise<void> {
  await sql`UPDATE sessions SET last_seen_at = ${now} WHERE id_hash = ${idHash}`;
}

export async function deleteSession(sql: Queryable, idHash: string): Promise<void> {
  await sql`DELETE FROM sessions WHERE id_hash = ${idHash}`;
}

/** Revokes every session of a user (password change, removal). */
export async function deleteUserSessions(sql: Queryable, userId: string): Promise<number> {
  const rows = await sql`DELETE FROM sessions WHERE user_id = ${userId} RETURNING 1`;
  return rows.length;
}
