-- The execution history pages by keyset on (started_at, id), newest first:
--   WHERE <filter> AND (started_at, id) < ($1, $2)
--   ORDER BY started_at DESC, id DESC LIMIT n
-- (and the same ascending for the page before). With id as the last column
-- each of these indexes serves that as one range scan with no sort, even
-- where many runs share a started_at (a tick starts all its jobs at one
-- instant). They replace the seed's three indexes, which lacked the id.

DROP INDEX idx_job_exec_started_at;
DROP INDEX idx_job_exec_job_id;
DROP INDEX idx_job_exec_status;

-- The unfiltered history, and from/to ranges.
CREATE INDEX job_executions_started_idx ON job_executions (started_at DESC, id DESC);

-- The history of one job (jobId=); also the dashboard's latest run of each
-- job, its latest finished run and its last 24 hours (lib/queries/dashboard.ts).
CREATE INDEX job_executions_job_started_idx ON job_executions (job_id, started_at DESC, id DESC);

-- The history by status (status=), e.g. every failure.
CREATE INDEX job_executions_status_started_idx ON job_executions (status, started_at DESC, id DESC);

-- One job's history by status (a job page filtered to its failures): without
-- it, the status index would walk every job's failures to find this job's.
CREATE INDEX job_executions_job_status_started_idx
  ON job_executions (job_id, status, started_at DESC, id DESC);

-- The history by trigger (trigger=manual or external). Scheduled runs are
-- most rows, so filtering the started_at scan finds a page of them quickly;
-- the rare manual and external runs would take a scan of everything, so
-- only they are indexed. The query repeats trigger <> 'scheduled' so the
-- planner can use this index even in a generic plan.
CREATE INDEX job_executions_unscheduled_idx ON job_executions (trigger, started_at DESC, id DESC)
  WHERE trigger <> 'scheduled';
