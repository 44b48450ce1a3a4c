-- Alerting: each job's alert state, the alerts raised, and the outbox their
-- deliveries go through (lib/alerts/). An alert and its deliveries are
-- written in the same transaction as the state change that raised them, so
-- none is lost; a worker delivers them (claiming rows with FOR UPDATE SKIP
-- LOCKED, so with several instances exactly one sends each).

-- What a job's code says about alerting (lib/alerts/policy.ts AlertPolicy),
-- synced with the rest of its definition.
ALTER TABLE job_definitions ADD COLUMN alert_policy JSONB NOT NULL DEFAULT '{}';

-- One row per job, locked while a finished run or the clock changes it.
CREATE TABLE job_alert_state (
  job_id                TEXT PRIMARY KEY REFERENCES job_definitions (id),
  -- Failed runs since the job's last completed run (skipped runs not counted).
  consecutive_failures  INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  -- When the first failure of the current streak finished.
  failing_since         TIMESTAMPTZ,
  -- The last failure or reminder alert of the current streak, for remindEvery.
  last_failure_alert_at TIMESTAMPTZ,
  -- The last run finished outside the job's expected duration.
  duration_warning      TEXT CHECK (duration_warning IN ('fast', 'slow')),
  -- Set while the job has missed its expected start (and an overdue alert was raised).
  overdue_since         TIMESTAMPTZ,
  -- Lateness is measured from the later of the last start, this and the job's creation:
  -- re-enabling a job starts its watch afresh.
  watch_from            TIMESTAMPTZ,
  snoozed_until         TIMESTAMPTZ,
  snoozed_by            TEXT,
  -- A failure alert or reminder was suppressed by a snooze: the first chance
  -- after the snooze alerts, so a job still failing is not left unmentioned.
  alert_owed            BOOLEAN NOT NULL DEFAULT false,
  updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Existing jobs start with the streak their history shows, so upgrading does
-- not announce a long-failing job as newly failed.
INSERT INTO job_alert_state (job_id, consecutive_failures, failing_since)
SELECT d.id, COALESCE(streak.failures, 0), streak.since
FROM job_definitions d
LEFT JOIN LATERAL (
  SELECT count(*)::integer AS failures, min(e.completed_at) AS since
  FROM job_executions e
  WHERE e.job_id = d.id AND e.status = 'failed'
    AND e.completed_at > COALESCE((
      SELECT max(c.completed_at) FROM job_executions c WHERE c.job_id = d.id AND c.status = 'completed'
    ), '-infinity')
) streak ON true;
UPDATE job_alert_state SET failing_since = NULL WHERE consecutive_failures = 0;

CREATE FUNCTION job_definitions_alert_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_alert_state (job_id, watch_from) VALUES (NEW.id, NEW.created_at)
  ON CONFLICT (job_id) DO NOTHING;
  RETURN NEW;
END
$$;
CREATE TRIGGER job_definitions_alert_state AFTER INSERT ON job_definitions
  FOR EACH ROW EXECUTE FUNCTION job_definitions_alert_state();

CREATE TABLE alerts (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id       TEXT NOT NULL REFERENCES job_definitions (id),
  -- The job's name when it was raised: every attempt renders the same message.
  job_name     TEXT NOT NULL,
  -- The run that raised it (none for overdue alerts and reminders raised by the clock).
  execution_id UUID REFERENCES job_executions (id) ON DELETE SET NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('failure', 'reminder', 'recovery', 'warning', 'overdue',
                                             'back_on_schedule')),
  -- The facts the messages are rendered from (lib/alerts/types.ts AlertDetails).
  details      JSONB NOT NULL DEFAULT '{}',
  -- Raised while the job was snoozed: recorded, not delivered.
  suppressed   BOOLEAN NOT NULL DEFAULT false,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX alerts_created_idx ON alerts (created_at DESC, id DESC);
CREATE INDEX alerts_job_idx ON alerts (job_id, created_at DESC, id DESC);
CREATE INDEX alerts_execution_idx ON alerts (execution_id) WHERE execution_id IS NOT NULL;

-- One row per alert and channel.
CREATE TABLE alert_outbox (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id        BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  -- Sent as the Idempotency-Key on every attempt. Random, not the row id: ids
  -- repeat across databases (staging and production on one Resend account, a
  -- restored backup), and Resend would drop the second as a duplicate.
  delivery_key    UUID NOT NULL DEFAULT gen_random_uuid(),
  -- E-mail: the addresses, fixed when queued, so a resend goes to the same people.
  -- Webhook: the host (the URL itself is a secret and stays in the environment).
  recipients      TEXT[] NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'suppressed',
                                                 'not_sent')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  -- 'pending': when to try next. 'sending': when the claim's lease runs out; a
  -- row still 'sending' after that was claimed by a process that died before
  -- recording the outcome, and is sent again with the same idempotency key.
  next_attempt_at TIMESTAMPTZ NOT NULL,
  claimed_by      TEXT,
  last_attempt_at TIMESTAMPTZ,
  last_error      TEXT,
  sent_at         TIMESTAMPTZ,
  -- The provider's id for the message (Resend's e-mail id).
  provider_id     TEXT,
  created_at      TIMESTAMPTZ NOT NULL
);
-- The worker's claim: state IN ('pending', 'sending') AND next_attempt_at <= now.
CREATE INDEX alert_outbox_due_idx ON alert_outbox (next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX alert_outbox_alert_idx ON alert_outbox (alert_id);
