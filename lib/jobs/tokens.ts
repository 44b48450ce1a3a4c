/**
 * Run tokens: `jw_` plus 256 random bits, shown once when created. Only a
 * SHA-256 is stored, so a leaked table cannot be used to report runs.
 */
import type { Queryable, Sql } from "../db/mod.ts";
import { recordAuditEvent } from "../queries/audit.ts";
import { getJobDefinition } from "../queries/jobs.ts";
import { insertJobToken, type JobToken, revokeJobToken, useJobToken } from "../queries/tokens.ts";
import { randomSecret, sha256Hex } from "../ids.ts";

export { getJobToken, type JobToken, listJobTokens, revokeJobToken } from "../queries/tokens.ts";

/** What every token we issue looks like; anything else is refused without a lookup. */
export const TOKEN_PATTERN = /^jw_[A-Za-z0-9_-]{43}$/;
export const MAX_LABEL_CHARS = 200;

/** A token asked for a job that is not in job_definitions. */
export class UnknownJobError extends Error {
  override name = "UnknownJobError";
}

function newToken(): string {
  return `jw_${randomSecret()}`;
}

/** The hex SHA-256 stored in job_tokens.token_hash. */
export function hashJobToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/**
 * Creates a token for a job (any job that exists, retired or not) and
 * returns it with its plaintext, which is never stored and cannot be shown
 * again. Throws `UnknownJobError` for a job id not in the database.
 */
export async function createJobToken(
  sql: Queryable,
  jobId: string,
  options: { label?: string; createdBy?: string | null; now?: Date } = {},
): Promise<{ token: string; record: JobToken }> {
  if (!await getJobDefinition(sql, jobId)) {
    throw new UnknownJobError(
      `There is no job "${jobId.slice(0, 100)}". Jobs are declared in code (lib/jobs/mod.ts); ` +
        "their ids are listed on /admin/jobs.",
    );
  }
  const token = newToken();
  const record = await insertJobToken(sql, {
    jobId,
    tokenHash: await hashJobToken(token),
    label: (options.label ?? "").trim().slice(0, MAX_LABEL_CHARS),
    createdBy: options.createdBy ?? null,
    createdAt: options.now ?? new Date(),
  });
  return { token, record };
}

/** The job id a live token reports for, or null for a malformed, unknown or revoked token. */
export async function authenticateJobToken(sql: Queryable, token: string, now: Date): Promise<string | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  return await useJobToken(sql, await hashJobToken(token), now);
}

/** Who creates or revokes a token: a signed-in user, or `cli` for the command line. */
export interface TokenActor {
  id: string | null;
  email: string;
  ip?: string | null;
}

/** `createJobToken` and its `token.created` audit event, in one transaction. */
export async function issueJobToken(
  sql: Sql,
  jobId: string,
  options: { label: string; actor: TokenActor; now: Date },
): Promise<{ token: string; record: JobToken }> {
  return await sql.begin(async (tx) => {
    const created = await createJobToken(tx, jobId, {
      label: options.label,
      createdBy: options.actor.email,
      now: options.now,
    });
    await recordAuditEvent(tx, {
      action: "token.created",
      occurredAt: options.now,
      actorId: options.actor.id,
      actorEmail: options.actor.email,
      targetType: "job_token",
      targetId: created.record.id,
      ip: options.actor.ip ?? null,
      metadata: { jobId, label: created.record.label },
    });
    return created;
  });
}

/** Revokes a live token with its `token.revoked` audit event; null when it was not live. */
export async function withdrawJobToken(
  sql: Sql,
  tokenId: string,
  options: { actor: TokenActor; now: Date },
): Promise<JobToken | null> {
  return await sql.begin(async (tx) => {
    const revoked = await revokeJobToken(tx, tokenId, options.now);
    if (revoked) {
      await recordAuditEvent(tx, {
        action: "token.revoked",
        occurredAt: options.now,
        actorId: options.actor.id,
        actorEmail: options.actor.email,
        targetType: "job_token",
        targetId: tokenId,
        ip: options.actor.ip ?? null,
        metadata: { jobId: revoked.jobId, label: revoked.label },
      });
    }
    return revoked;
  });
}

/** A curl command that reports a finished run with `token`, one line per element (indented for a terminal). */
export function curlExample(appUrl: string, jobId: string, token: string): string[] {
  return [
    `  curl -fsS -X POST ${appUrl}/api/runs/${jobId} \\`,
    `    -H 'Authorization: Bearer ${token}' \\`,
    `    -H 'Content-Type: application/json' \\`,
    `    -d '{"status": "completed", "durationMs": 1234}'`,
  ];
}
