/** Queries on `job_tokens`, the bearer tokens of external jobs. Only SHA-256 hashes are stored. */
import type { Queryable } from "../db/mod.ts";
import { isUuid } from "../ids.ts";

export interface JobToken {
  id: string;
  jobId: string;
  label: string;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** `last_used_at` is written at most this often, not on every report. */
const TOUCH_INTERVAL = "1 minute";

const COLUMNS = (sql: Queryable) => sql`id, job_id, label, created_at, created_by, last_used_at, revoked_at`;

export async function insertJobToken(
  sql: Queryable,
  token: { jobId: string; tokenHash: string; label: string; createdBy: string | null; createdAt: Date },
): Promise<JobToken> {
  const [row] = await sql<JobToken[]>`
    INSERT INTO job_tokens (job_id, token_hash, label, created_by, created_at)
    VALUES (${token.jobId}, ${token.tokenHash}, ${token.label}, ${token.createdBy}, ${token.createdAt})
    RETURNING ${COLUMNS(sql)}
  `;
  return row;
}

/** A job's tokens, live ones first, newest first. Uses job_tokens_job_id_idx. */
export async function listJobTokens(sql: Queryable, jobId: string): Promise<JobToken[]> {
  return await sql<JobToken[]>`
    SELECT ${COLUMNS(sql)}
    FROM job_tokens
    WHERE job_id = ${jobId}
    ORDER BY revoked_at IS NOT NULL, created_at DESC, id
  `;
}

export async function getJobToken(sql: Queryable, tokenId: string): Promise<JobToken | null> {
  if (!isUuid(tokenId)) return null;
  const [row] = await sql<JobToken[]>`SELECT ${COLUMNS(sql)} FROM job_tokens WHERE id = ${tokenId}`;
  return row ?? null;
}

/**
 * Revokes a live token; null when there is no such token or it was already
 * revoked (tell them apart with `getJobToken`).
 */
export async function revokeJobToken(
  sql: Queryable,
  tokenId: string,
  revokedAt: Date = new Date(),
): Promise<JobToken | null> {
  if (!isUuid(tokenId)) return null;
  const [row] = await sql<JobToken[]>`
    UPDATE job_tokens SET revoked_at = ${revokedAt}
    WHERE id = ${tokenId} AND revoked_at IS NULL
    RETURNING ${COLUMNS(sql)}
  `;
  return row ?? null;
}

/**
 * Common table expressions for statements that act on a job's behalf: `live`
 * is the live token with this hash (id, job_id), and `touched` stamps its
 * `last_used_at` when that is older than a minute. Uses the unique index on
 * token_hash. Follow with `, more AS (…)` or the main statement.
 */
export function liveTokenCtes(sql: Queryable, tokenHash: string, now: Date) {
  return sql`
    live AS (
      SELECT id, job_id, last_used_at FROM job_tokens
      WHERE token_hash = ${tokenHash} AND revoked_at IS NULL
    ),
    touched AS (
      UPDATE job_tokens t SET last_used_at = ${now}
      FROM live
      WHERE t.id = live.id
        AND (live.last_used_at IS NULL
             OR live.last_used_at < ${now}::timestamptz - ${TOUCH_INTERVAL}::interval)
    )
  `;
}

/** The job of the live token with this hash, or null; stamps its use (see `liveTokenCtes`). */
export async function useJobToken(sql: Queryable, tokenHash: string, now: Date): Promise<string | null> {
  const [row] = await sql<{ jobId: string }[]>`
    WITH ${liveTokenCtes(sql, tokenHash, now)}
    SELECT job_id FROM live
  `;
  return row?.jobId ?? null;
}
