/**
 * A job's latest completed, failed and running starts as LATERAL columns.
 * The first two come from job_execution_stats.last_started_at, which the
 * statement triggers keep (migrations/0007_latest_starts.sql): one row each,
 * whatever the size of the history. The running start is a probe of the
 * partial index of running rows, which holds only the runs in progress.
 */
import type { Queryable } from "../db/mod.ts";

/**
 * For a query over job_definitions aliased `d`. Columns: `latest.last_success_at`,
 * `latest.last_failure_at`, `latest.running_since` (the newest running start, or null).
 */
export function latestRunsJoin(sql: Queryable) {
  return sql`
    LEFT JOIN LATERAL (
      SELECT
        (SELECT st.last_started_at FROM job_execution_stats st   -- its primary key
         WHERE st.job_id = d.id AND st.status = 'completed') AS last_success_at,
        (SELECT st.last_started_at FROM job_execution_stats st
         WHERE st.job_id = d.id AND st.status = 'failed') AS last_failure_at,
        (SELECT e.started_at FROM job_executions e        -- job_executions_running_idx
         WHERE e.job_id = d.id AND e.status = 'running'
         ORDER BY e.started_at DESC LIMIT 1) AS running_since
    ) latest ON true
  `;
}
