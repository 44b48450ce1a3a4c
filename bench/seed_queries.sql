-- The seed's reference queries: what the article Jobwatch grew from
-- (/work/shared/seed/000_a5925c20e4e4f2c1.txt) sends to PostgreSQL for its
-- three screens, written against Jobwatch's schema so bench/compare.ts can
-- time them next to Jobwatch's own queries on the same data.
--
-- Each statement follows a `-- name: <key>` line (compare.ts splits the file
-- on those lines). $1, $2 are the values the seed's code passes (page size,
-- offset, job id); constants of the seed's code are written in place.
--
-- How Prisma (its default "query" relation strategy) words them, and what
-- differs here:
-- * Prisma quotes and schema-qualifies every name ("public"."job_executions"."id")
--   and adds WHERE 1=1 and OFFSET 0 where the call has no filter or skip; the
--   names are unquoted here, the rest kept. Plans are the same.
-- * `include` is sent as follow-up queries, `WHERE id IN (…the page's ids…)`,
--   on job_definitions and users. Here they are joins on the page's rows
--   (the page is a subquery), which reads the same rows in one round trip.
-- * Model fields are the seed's columns: job_executions without Jobwatch's
--   additions (retry_of, exit_code, log, deadline_at, …), job_definitions
--   with the seed's eight.

-- name: history_page_offset
-- Seed GET /api/admin/jobs: db.jobExecution.findMany({ where, orderBy: { startedAt: "desc" },
-- skip: (page - 1) * limit, take: limit, include: { job: { select: { displayName, schedule,
-- timezone } }, triggeredByUser: { select: { name, email } } } }), no filter. $1 = limit, $2 = offset.
SELECT e.id, e.job_id, e.period_key, e.execution_id, e.status, e.trigger, e.triggered_by,
       e.started_at, e.completed_at, e.duration_ms, e.result, e.error_message, e.metadata,
       d.display_name, d.schedule, d.timezone,
       u.name, u.email
FROM (
  SELECT id, job_id, period_key, execution_id, status, trigger, triggered_by,
         started_at, completed_at, duration_ms, result, error_message, metadata
  FROM job_executions
  WHERE 1=1
  ORDER BY started_at DESC
  LIMIT $1 OFFSET $2
) e
LEFT JOIN job_definitions d ON d.id = e.job_id
LEFT JOIN users u ON u.id = e.triggered_by
ORDER BY e.started_at DESC;

-- name: history_count
-- Seed GET /api/admin/jobs: db.jobExecution.count({ where }), no filter; Prisma's count wraps a
-- select of the ids in a subquery with OFFSET.
SELECT COUNT(*)
FROM (
  SELECT id FROM job_executions WHERE 1=1 OFFSET 0
) AS sub;

-- name: history_definitions
-- Seed GET /api/admin/jobs: db.jobDefinition.findMany({ orderBy: { displayName: "asc" } }).
SELECT id, display_name, description, schedule, timezone, timeout_seconds, enabled, created_at
FROM job_definitions
WHERE 1=1
ORDER BY display_name ASC
OFFSET 0;

-- name: dashboard_stats_24h
-- Seed app/admin/jobs/page.tsx: the db.$queryRaw of the last 24 hours' stats per job, verbatim.
SELECT
  job_id,
  COUNT(*) AS total,
  COUNT(*) FILTER (WHERE status = 'failed') AS failed,
  AVG(duration_ms) AS avg_duration_ms,
  MAX(started_at) AS last_run,
  (ARRAY_AGG(status ORDER BY started_at DESC))[1] AS last_status
FROM job_executions
WHERE started_at >= now() - INTERVAL '24 hours'
GROUP BY job_id;

-- name: dashboard_recent_100
-- Seed app/admin/jobs/page.tsx: db.jobExecution.findMany({ take: 100, orderBy: { startedAt: "desc" },
-- include: { job: { select: { displayName: true } } } }).
SELECT e.id, e.job_id, e.period_key, e.execution_id, e.status, e.trigger, e.triggered_by,
       e.started_at, e.completed_at, e.duration_ms, e.result, e.error_message, e.metadata,
       d.display_name
FROM (
  SELECT id, job_id, period_key, execution_id, status, trigger, triggered_by,
         started_at, completed_at, duration_ms, result, error_message, metadata
  FROM job_executions
  WHERE 1=1
  ORDER BY started_at DESC
  LIMIT 100 OFFSET 0
) e
LEFT JOIN job_definitions d ON d.id = e.job_id
ORDER BY e.started_at DESC;

-- name: dashboard_definitions
-- Seed app/admin/jobs/page.tsx: db.jobDefinition.findMany({ orderBy: { displayName: "asc" } }).
SELECT id, display_name, description, schedule, timezone, timeout_seconds, enabled, created_at
FROM job_definitions
WHERE 1=1
ORDER BY display_name ASC
OFFSET 0;

-- name: health_last_success
-- Seed GET /api/health/jobs, once per critical job: db.jobExecution.findFirst({ where: { jobId,
-- status: "completed" }, orderBy: { startedAt: "desc" }, select: { startedAt: true } }). $1 = job id.
SELECT started_at
FROM job_executions
WHERE (job_id = $1 AND status = 'completed'::job_status)
ORDER BY started_at DESC
LIMIT 1 OFFSET 0;
