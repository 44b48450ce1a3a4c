-- Running totals of finished executions per job and status, for /metrics.
-- Counting job_executions on every scrape would read the whole history (and
-- go down when old runs are pruned, which a Prometheus counter must never
-- do); a trigger keeps these rows current on every path that finishes a run.

CREATE TABLE job_execution_stats (
  job_id        TEXT NOT NULL REFERENCES job_definitions (id),
  status        job_status NOT NULL CHECK (status <> 'running'),
  runs          BIGINT NOT NULL DEFAULT 0,
  -- Completed and failed runs only (a skipped run takes no time).
  duration_sum_ms BIGINT NOT NULL DEFAULT 0,
  -- Runs per duration bucket, NOT cumulative: bucket i holds durations in
  -- (bound[i-1], bound[i]] of jobwatch_duration_bounds_ms(), the last one
  -- everything longer. /metrics adds them up into Prometheus's cumulative `le` buckets.
  buckets       BIGINT[] NOT NULL,
  PRIMARY KEY (job_id, status)
);

-- Upper bounds of the duration buckets, in milliseconds (then +Inf). Changing
-- them needs a new migration that rebuilds job_execution_stats.buckets.
CREATE FUNCTION jobwatch_duration_bounds_ms() RETURNS INTEGER[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY[100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000]
$$;

-- The 1-based bucket a duration falls in (the first bound it does not
-- exceed); 13 for longer ones. width_bucket counts the thresholds <= its
-- operand, so for whole milliseconds bound + 1 makes the bounds inclusive, as
-- Prometheus's `le` is. The literal must match jobwatch_duration_bounds_ms().
CREATE FUNCTION jobwatch_duration_bucket(duration_ms INTEGER) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
  SELECT width_bucket(duration_ms,
    '{101, 251, 501, 1001, 2501, 5001, 10001, 30001, 60001, 300001, 900001, 3600001}'::integer[]) + 1
$$;

-- What the counting needs of a run.
CREATE TYPE jobwatch_counted_run AS (job_id TEXT, status job_status, duration_ms INTEGER);

-- Adds runs that reached a final state to the totals: one upsert per job and
-- status, however many runs a statement finished.
CREATE FUNCTION jobwatch_count_runs(runs jobwatch_counted_run[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO job_execution_stats AS s (job_id, status, runs, duration_sum_ms, buckets)
  SELECT r.job_id, r.status, count(*), COALESCE(sum(r.ms) FILTER (WHERE r.bucket IS NOT NULL), 0),
         ARRAY[count(*) FILTER (WHERE r.bucket = 1), count(*) FILTER (WHERE r.bucket = 2),
               count(*) FILTER (WHERE r.bucket = 3), count(*) FILTER (WHERE r.bucket = 4),
               count(*) FILTER (WHERE r.bucket = 5), count(*) FILTER (WHERE r.bucket = 6),
               count(*) FILTER (WHERE r.bucket = 7), count(*) FILTER (WHERE r.bucket = 8),
               count(*) FILTER (WHERE r.bucket = 9), count(*) FILTER (WHERE r.bucket = 10),
               count(*) FILTER (WHERE r.bucket = 11), count(*) FILTER (WHERE r.bucket = 12),
               count(*) FILTER (WHERE r.bucket = 13)]
  FROM (
    SELECT u.job_id, u.status, GREATEST(u.duration_ms, 0) AS ms,
           CASE WHEN u.status IN ('completed', 'failed') AND u.duration_ms IS NOT NULL
                THEN jobwatch_duration_bucket(GREATEST(u.duration_ms, 0)) END AS bucket
    FROM unnest(runs) AS u
    WHERE u.status <> 'running'
  ) r
  GROUP BY r.job_id, r.status
  ON CONFLICT (job_id, status) DO UPDATE SET
    runs = s.runs + EXCLUDED.runs,
    duration_sum_ms = s.duration_sum_ms + EXCLUDED.duration_sum_ms,
    buckets = ARRAY(SELECT a + b FROM unnest(s.buckets, EXCLUDED.buckets) WITH ORDINALITY AS t(a, b, i) ORDER BY i)
$$;

-- Statement-level triggers with transition tables: a bulk insert of a
-- million runs costs one aggregation, not a million upserts.
CREATE FUNCTION job_executions_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM jobwatch_count_runs(ARRAY(
    SELECT (n.job_id, n.status, n.duration_ms)::jobwatch_counted_run FROM inserted_rows n
    WHERE n.status <> 'running'));
  RETURN NULL;
END
$$;
CREATE TRIGGER job_executions_count_inserted AFTER INSERT ON job_executions
  REFERENCING NEW TABLE AS inserted_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_executions_count_inserted();

-- An UPDATE counts a run only when it changes its status (running → completed,
-- failed): re-setting the same status counts nothing.
CREATE FUNCTION job_executions_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM jobwatch_count_runs(ARRAY(
    SELECT (n.job_id, n.status, n.duration_ms)::jobwatch_counted_run
    FROM updated_rows n JOIN previous_rows o ON o.id = n.id
    WHERE n.status <> o.status AND n.status <> 'running'));
  RETURN NULL;
END
$$;
CREATE TRIGGER job_executions_count_updated AFTER UPDATE ON job_executions
  REFERENCING OLD TABLE AS previous_rows NEW TABLE AS updated_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_executions_count_updated();

-- The history so far.
SELECT jobwatch_count_runs(ARRAY(
  SELECT (e.job_id, e.status, e.duration_ms)::jobwatch_counted_run FROM job_executions e
  WHERE e.status <> 'running'));
