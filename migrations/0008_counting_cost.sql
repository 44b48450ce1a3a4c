-- The run counters' statement triggers cost more than the runs they count:
-- under the benchmark's external-run load, pg_stat_statements showed
-- jobwatch_count_runs at 0.8-0.9 ms a call, most of it planning. As a SQL
-- function its INSERT was planned afresh at every call, and it was called
-- for every insert of a run that has only started, with nothing to count.
-- As PL/pgSQL its plan is kept for the session, and an empty call returns
-- at once. What it counts is unchanged.

CREATE OR REPLACE FUNCTION jobwatch_count_runs(runs jobwatch_counted_run[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF runs IS NULL OR cardinality(runs) = 0 THEN
    RETURN;
  END IF;
  INSERT INTO job_execution_stats AS s (job_id, status, runs, duration_sum_ms, buckets, last_started_at)
  SELECT r.job_id, r.status, count(*), COALESCE(sum(r.ms) FILTER (WHERE r.bucket IS NOT NULL), 0),
         ARRAY[count(*) FILTER (WHERE r.bucket = 1), count(*) FILTER (WHERE r.bucket = 2),
               count(*) FILTER (WHERE r.bucket = 3), count(*) FILTER (WHERE r.bucket = 4),
               count(*) FILTER (WHERE r.bucket = 5), count(*) FILTER (WHERE r.bucket = 6),
               count(*) FILTER (WHERE r.bucket = 7), count(*) FILTER (WHERE r.bucket = 8),
               count(*) FILTER (WHERE r.bucket = 9), count(*) FILTER (WHERE r.bucket = 10),
               count(*) FILTER (WHERE r.bucket = 11), count(*) FILTER (WHERE r.bucket = 12),
               count(*) FILTER (WHERE r.bucket = 13)],
         max(r.started_at)
  FROM (
    SELECT u.job_id, u.status, u.started_at, GREATEST(u.duration_ms, 0) AS ms,
           CASE WHEN u.status IN ('completed', 'failed') AND u.duration_ms IS NOT NULL
                THEN jobwatch_duration_bucket(GREATEST(u.duration_ms, 0)) END AS bucket
    FROM unnest(runs) AS u
    WHERE u.status <> 'running'
  ) r
  GROUP BY r.job_id, r.status
  ON CONFLICT (job_id, status) DO UPDATE SET
    runs = s.runs + EXCLUDED.runs,
    duration_sum_ms = s.duration_sum_ms + EXCLUDED.duration_sum_ms,
    buckets = ARRAY(SELECT a + b FROM unnest(s.buckets, EXCLUDED.buckets) WITH ORDINALITY AS t(a, b, i) ORDER BY i),
    -- GREATEST ignores NULLs: a run reported late with an old start does not move it back.
    last_started_at = GREATEST(s.last_started_at, EXCLUDED.last_started_at);
END
$$;
