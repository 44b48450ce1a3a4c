-- The scheduler: what a job declares in code, the scheduler's cursor,
-- retries, external runs and their tokens.

ALTER TABLE job_definitions
  ADD COLUMN external           BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN concurrency        TEXT NOT NULL DEFAULT 'skip' CHECK (concurrency IN ('skip', 'allow')),
  ADD COLUMN critical           BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN max_age_hours      NUMERIC CHECK (max_age_hours > 0),
  -- Set when a job disappears from code; its history stays.
  ADD COLUMN retired_at         TIMESTAMPTZ,
  ADD COLUMN updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Every occurrence up to this instant has been handled by some instance.
  ADD COLUMN scheduled_through  TIMESTAMPTZ;

ALTER TABLE job_executions
  ADD COLUMN retry_of  UUID REFERENCES job_executions (id) ON DELETE SET NULL,
  ADD COLUMN exit_code INTEGER,
  ADD COLUMN log       TEXT,
  -- When a running execution times out, fixed when it starts: a later change
  -- of the job's timeout does not make a live run look lost.
  ADD COLUMN deadline_at TIMESTAMPTZ,
  ADD CONSTRAINT job_executions_trigger_check CHECK (trigger IN ('scheduled', 'manual', 'external'));

-- Every way a run starts (tick, Run now, external start) gets its deadline here.
CREATE FUNCTION job_executions_set_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'running' AND NEW.deadline_at IS NULL THEN
    SELECT NEW.started_at + make_interval(secs => d.timeout_seconds) INTO NEW.deadline_at
    FROM job_definitions d WHERE d.id = NEW.job_id;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER job_executions_deadline BEFORE INSERT ON job_executions
  FOR EACH ROW EXECUTE FUNCTION job_executions_set_deadline();

-- The overlap check and the reaper look for running executions of a job.
CREATE INDEX job_executions_running_idx ON job_executions (job_id, started_at) WHERE status = 'running';
CREATE INDEX job_executions_retry_of_idx ON job_executions (retry_of) WHERE retry_of IS NOT NULL;

-- Bearer tokens with which external jobs report their runs; only a hash is kept.
CREATE TABLE job_tokens (
  id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id       TEXT NOT NULL REFERENCES job_definitions (id),
  token_hash   TEXT NOT NULL UNIQUE,
  label        TEXT NOT NULL DEFAULT '',
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  created_by   TEXT,
  last_used_at TIMESTAMPTZ,
  revoked_at   TIMESTAMPTZ
);
CREATE INDEX job_tokens_job_id_idx ON job_tokens (job_id);
