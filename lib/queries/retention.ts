/**
 * Deletes of expired history, one small batch per statement (lib/jobs/retention.ts
 * loops over them). Each is its own implicit transaction, so its row locks are
 * held for one batch only, and FOR UPDATE SKIP LOCKED lets two instances prune
 * side by side without waiting on each other.
 */
import type { Queryable } from "../db/mod.ts";

/**
 * Where a prune has got to: the newest (started_at, id) it deleted, the
 * time with microseconds in UTC. The next batch starts after it, so it
 * does not wade again through the index entries of rows it deleted, which
 * stay in the index until VACUUM: without it each batch scanned every
 * batch before it, and a million-row prune slowed as it went.
 */
export interface RetentionPosition {
  startedAt: string;
  id: string;
}

/**
 * Deletes up to `limit` of the oldest executions that started before `cutoff`,
 * and returns how many. Never a running execution, and never one a job keeps
 * whatever its age: its newest run, its newest completed and its newest failed
 * run (health, lateness and "last success" read them). `retry_of` and
 * `alerts.execution_id` pointing at a deleted run become NULL (ON DELETE SET NULL);
 * job_execution_stats has no delete trigger, so the counters stay as they are.
 */
export async function deleteExpiredExecutions(
  sql: Queryable,
  options: { cutoff: Date; limit: number; after?: RetentionPosition | null },
): Promise<{ count: number; last: RetentionPosition | null }> {
  // The keep-set is three index probes per job, computed in the statement
  // itself so it matches the snapshot the batch is picked from.
  const after = options.after ?? null;
  const result = await sql<RetentionPosition[]>`
    WITH kept AS (
      SELECT newest.id
      FROM job_definitions d
      CROSS JOIN LATERAL (
        (SELECT e.id FROM job_executions e                      -- job_executions_job_started_idx
         WHERE e.job_id = d.id
         ORDER BY e.started_at DESC, e.id DESC LIMIT 1)
        UNION ALL
        (SELECT e.id FROM job_executions e                      -- job_executions_job_status_started_idx
         WHERE e.job_id = d.id AND e.status = 'completed'
         ORDER BY e.started_at DESC, e.id DESC LIMIT 1)
        UNION ALL
        (SELECT e.id FROM job_executions e                      -- job_executions_job_status_started_idx
         WHERE e.job_id = d.id AND e.status = 'failed'
         ORDER BY e.started_at DESC, e.id DESC LIMIT 1)
      ) newest
    )
    DELETE FROM job_executions
    WHERE id IN (
      SELECT e.id
      FROM job_executions e
      WHERE e.started_at < ${options.cutoff}
        AND e.status <> 'running'
        AND e.id NOT IN (SELECT id FROM kept)
        ${
    after ? sql`AND (e.started_at, e.id) > (${after.startedAt}::timestamptz, ${after.id}::uuid)` : sql``
  }
      ORDER BY e.started_at, e.id                               -- job_executions_started_idx, backwards
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at
  `;
  let last: RetentionPosition | null = null;
  for (const row of result) {
    if (!last || row.startedAt > last.startedAt || (row.startedAt === last.startedAt && row.id > last.id)) {
      last = { startedAt: row.startedAt, id: row.id };
    }
  }
  return { count: result.count, last };
}

/**
 * Deletes up to `limit` of the oldest alerts raised before `cutoff` whose
 * deliveries have all reached a final state, and returns how many. An alert
 * with a delivery still pending or sending stays until it is delivered or
 * given up; its alert_outbox rows go with it (ON DELETE CASCADE).
 */
export async function deleteExpiredAlerts(
  sql: Queryable,
  options: { cutoff: Date; limit: number },
): Promise<number> {
  const result = await sql`
    DELETE FROM alerts
    WHERE id IN (
      SELECT a.id
      FROM alerts a
      WHERE a.created_at < ${options.cutoff}
        AND NOT EXISTS (
          SELECT 1 FROM alert_outbox o                          -- alert_outbox_alert_idx
          WHERE o.alert_id = a.id
            AND o.state NOT IN ('sent', 'failed', 'suppressed', 'not_sent')
        )
      ORDER BY a.created_at, a.id                               -- alerts_created_idx, backwards
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    )
  `;
  return result.count;
}
