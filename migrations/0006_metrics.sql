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
-- exceed); array_length + 1 for longer ones. width_bucket counts the
-- thresholds <= its operand, so for whole milliseconds bound + 1 makes the
-- bounds inclusive, as Prometheus's `le` is.
CREATE FUNCTION jobwatch_duration_bucket(duration_ms INTEGER) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
  SELECT width_bucket(duration_ms, ARRAY(SELECT b + 1 FROM unnest(jobwatch_duration_bounds_ms()) AS b)) + 1
$$;

CREATE FUNCTION job_executions_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  timed   BOOLEAN := NEW.status IN ('completed', 'failed') AND NEW.duration_ms IS NOT NULL;
  bucket  INTEGER := CASE WHEN timed THEN jobwatch_duration_bucket(GREATEST(NEW.duration_ms, 0)) END;
  empty   BIGINT[] := array_fill(0::bigint, ARRAY[array_length(jobwatch_duration_bounds_ms(), 1) + 1]);
BEGIN
  IF NEW.status = 'running' OR (TG_OP = 'UPDATE' AND OLD.status = NEW.status) THEN
    RETURN NULL;
  END IF;
  INSERT INTO job_execution_stats AS s (job_id, status, runs, duration_sum_ms, buckets)
  VALUES (NEW.job_id, NEW.status, 1,
          CASE WHEN timed THEN GREATEST(NEW.duration_ms, 0) ELSE 0 END,
          CASE WHEN timed THEN array_fill(0::bigint, ARRAY[bucket - 1]) || 1::bigint
                               || array_fill(0::bigint, ARRAY[array_length(empty, 1) - bucket])
               ELSE empty END)
  ON CONFLICT (job_id, status) DO UPDATE SET
    runs = s.runs + 1,
    duration_sum_ms = s.duration_sum_ms + CASE WHEN timed THEN GREATEST(NEW.duration_ms, 0) ELSE 0 END,
    buckets = CASE WHEN timed
                THEN s.buckets[1:bucket - 1] || (s.buckets[bucket] + 1) || s.buckets[bucket + 1:]
                ELSE s.buckets END;
  RETURN NULL;
END
$$;
CREATE TRIGGER job_executions_count AFTER INSERT OR UPDATE OF status ON job_executions
  FOR EACH ROW EXECUTE FUNCTION job_executions_count();

-- The history so far: each run's bucket once, then one row per job and status.
WITH timed AS (
  SELECT job_id, status,
         CASE WHEN status IN ('completed', 'failed') AND duration_ms IS NOT NULL
              THEN jobwatch_duration_bucket(GREATEST(duration_ms, 0)) END AS bucket,
         GREATEST(duration_ms, 0) AS ms
  FROM job_executions
  WHERE status <> 'running'
),
per_bucket AS (
  SELECT job_id, status, bucket, count(*) AS runs, COALESCE(sum(ms) FILTER (WHERE bucket IS NOT NULL), 0) AS ms
  FROM timed
  GROUP BY job_id, status, bucket
)
INSERT INTO job_execution_stats (job_id, status, runs, duration_sum_ms, buckets)
SELECT p.job_id, p.status, sum(p.runs), sum(p.ms),
       ARRAY(
         SELECT COALESCE(sum(q.runs), 0)::bigint
         FROM generate_series(1, array_length(jobwatch_duration_bounds_ms(), 1) + 1) AS b
         LEFT JOIN per_bucket q ON q.job_id = p.job_id AND q.status = p.status AND q.bucket = b
         GROUP BY b ORDER BY b
       )
FROM per_bucket p
GROUP BY p.job_id, p.status;
