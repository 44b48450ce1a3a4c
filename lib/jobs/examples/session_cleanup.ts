/**
 * `session-cleanup`: deletes expired rows from Jobwatch's own `sessions`
 * table. Not a demo: this one does real work on every install.
 */
import { defineJob, type Job, type JobContext } from "../define.ts";

export const SESSION_CLEANUP_BATCH_SIZE = 1000;

/**
 * Deletes sessions that expired before `now`, a batch at a time, until none
 * are left. Between batches it checks `ctx.signal`: once aborted it logs how
 * many were deleted and throws the abort reason, so the run is recorded as
 * failed and the next run deletes the rest.
 */
export async function cleanUpSessions(ctx: JobContext, now: Date): Promise<{ deleted: number }> {
  const { sql, signal, log } = ctx;
  let deleted = 0;
  while (true) {
    if (signal.aborted) {
      log.warn("stopped before all expired sessions were deleted", { deleted });
      signal.throwIfAborted();
    }
    // sessions_expires_at_idx finds the batch; SKIP LOCKED lets a second
    // instance work alongside instead of waiting.
    const rows = await sql`
      DELETE FROM sessions
      WHERE id_hash IN (
        SELECT id_hash
        FROM sessions
        WHERE expires_at < ${now}
        ORDER BY expires_at
        LIMIT ${SESSION_CLEANUP_BATCH_SIZE}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING 1
    `;
    deleted += rows.length;
    if (rows.length < SESSION_CLEANUP_BATCH_SIZE) break;
  }
  log.info(`deleted ${deleted} expired session${deleted === 1 ? "" : "s"}`, { deleted });
  return { deleted };
}

export const sessionCleanupJob: Job = defineJob({
  id: "session-cleanup",
  displayName: "Session Cleanup",
  description: "Deletes expired sign-in sessions from Jobwatch's own database, 1,000 at a time.",
  schedule: "cron(0 3 * * ? *)",
  timezone: "UTC",
  critical: true,
  maxAgeHours: 26,
  run: (ctx) => cleanUpSessions(ctx, new Date()),
});
