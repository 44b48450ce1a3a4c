/**
 * A job's latest completed, failed and running starts as LATERAL columns:
 * three probes of the (job_id, status, started_at) indexes, so however
 * many skipped runs a job piled up, none of them is read.
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
        (SELECT e.started_at FROM job_executions e        -- job_executions_job_status_started_idx
         WHERE e.job_id = d.id AND e.status = 'completed'
         ORDER BY e.started_at DESC, e.id DESC LIMIT 1) AS last_success_at,
        (SELECT e.started_at FROM job_executions e        -- job_executions_job_status_started_idx
         WHERE e.job_id = d.id AND e.status = 'failed'
         ORDER BY e.started_at DESC, e.id DESC LIMIT 1) AS last_failure_at,
        (SELECT e.started_at FROM job_executions e        -- job_executions_running_idx
         WHERE e.job_id = d.id AND e.status = 'running'
         ORDER BY e.started_at DESC LIMIT 1) AS running_since
    ) latest ON true
  `;
}
