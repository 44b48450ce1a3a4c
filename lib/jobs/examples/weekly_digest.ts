/**
 * `weekly-digest` (example): "prepares" a weekly activity digest for each
 * active demo workspace. No e-mail is sent; a real job would call its mail
 * provider where this one only counts the week's usage.
 */
import { defineJob, type Job, type JobContext } from "../define.ts";

export const DIGEST_BATCH_SIZE = 50;
const DAY_MS = 86_400_000;
/**
 * A workspace whose last digest is newer than this is skipped, so a retry
 * or a manual run in the same week never sends a second digest.
 */
export const DIGEST_RESEND_GUARD_MS = 6 * DAY_MS;

export interface DigestReport {
  sent: number;
  skipped: number;
}

/**
 * For every active workspace not digested in the last six days: counts its
 * usage events over the seven days before `now` and stamps `last_digest_at`.
 * Inactive workspaces are left alone; `ctx.signal` is checked between batches.
 */
export async function prepareDigests(ctx: JobContext, now: Date): Promise<DigestReport> {
  const { sql, signal, log } = ctx;
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS);
  const guard = new Date(now.getTime() - DIGEST_RESEND_GUARD_MS);
  const workspaces = await sql<{ id: string; recent: boolean }[]>`
    SELECT id, coalesce(last_digest_at > ${guard}, false) AS recent
    FROM demo_workspaces
    WHERE active
    ORDER BY id
  `;
  const due = workspaces.filter((workspace) => !workspace.recent).map((workspace) => workspace.id);
  const skipped = workspaces.length - due.length;
  let sent = 0;
  for (let offset = 0; offset < due.length; offset += DIGEST_BATCH_SIZE) {
    signal.throwIfAborted();
    const batch = due.slice(offset, offset + DIGEST_BATCH_SIZE);
    const digests = await sql<{ id: string; events: number }[]>`
      UPDATE demo_workspaces w
      SET last_digest_at = ${now}
      WHERE w.id IN ${sql(batch)} AND w.active
      RETURNING w.id, (
        SELECT count(*)::int
        FROM usage_events e
        WHERE e.workspace_id = w.id AND e.occurred_at > ${weekAgo} AND e.occurred_at <= ${now}
      ) AS events
    `;
    for (const digest of digests) {
      log.info(`prepared the digest for ${digest.id} (${digest.events} events this week); no e-mail sent`);
    }
    sent += digests.length;
  }
  log.info(`prepared ${sent} digests, skipped ${skipped} already sent this week`, { sent, skipped });
  return { sent, skipped };
}

export const weeklyDigestJob: Job = defineJob({
  id: "weekly-digest",
  displayName: "Weekly Digest Email",
  description: "Example job: prepares a weekly activity digest for each active demo workspace " +
    "(counts its last 7 days of usage). It sends no e-mail; replace it with your own digest.",
  schedule: "cron(0 9 ? * MON *)",
  timezone: "America/New_York",
  critical: true,
  maxAgeHours: 168,
  run: (ctx) => prepareDigests(ctx, new Date()),
});
