-- Jobwatch base schema: the job tables from the design, plus users, sessions
-- and the audit log. Landed migrations are never edited; add a new file.

CREATE TYPE job_status AS ENUM ('running', 'completed', 'failed', 'skipped');

CREATE TABLE users (
  id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  email         TEXT NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
  name          TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  password_hash TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- E-mail addresses are stored lower-cased; the index on lower() keeps them
-- unique case-insensitively even if a writer forgets.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Only a SHA-256 of the session id is stored: a leaked table cannot be
-- replayed as cookies.
CREATE TABLE sessions (
  id_hash      TEXT PRIMARY KEY,
  user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at   TIMESTAMPTZ NOT NULL,
  ip           TEXT,
  user_agent   TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE audit_events (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor_id    UUID REFERENCES users (id) ON DELETE SET NULL,
  actor_email TEXT,
  action      TEXT NOT NULL,            -- e.g. 'auth.signed_in', 'job.triggered'
  target_type TEXT,
  target_id   TEXT,
  ip          TEXT,
  metadata    JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at DESC, id DESC);
-- Sign-in rate limiting counts recent failures by action and time.
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at DESC);

CREATE TABLE job_definitions (
  id              TEXT PRIMARY KEY,       -- e.g. 'weekly-digest'
  display_name    TEXT NOT NULL,
  description     TEXT,
  schedule        TEXT NOT NULL,          -- cron(...), rate(...) or five-field cron
  timezone        TEXT NOT NULL DEFAULT 'UTC',
  timeout_seconds INTEGER NOT NULL DEFAULT 300 CHECK (timeout_seconds > 0),
  enabled         BOOLEAN NOT NULL DEFAULT true,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE job_executions (
  id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id        TEXT NOT NULL REFERENCES job_definitions (id),
  period_key    TEXT NOT NULL,            -- e.g. '2027-W08', '2027-03-01'
  execution_id  TEXT NOT NULL,            -- AWS request id or a random UUID
  status        job_status NOT NULL DEFAULT 'running',
  trigger       TEXT NOT NULL DEFAULT 'scheduled',
  triggered_by  UUID REFERENCES users (id) ON DELETE SET NULL,
  started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  completed_at  TIMESTAMPTZ,
  duration_ms   INTEGER GENERATED ALWAYS AS (
                  (EXTRACT(EPOCH FROM (completed_at - started_at)) * 1000)::integer
                ) STORED,
  result        JSONB,
  error_message TEXT,
  metadata      JSONB,
  UNIQUE (job_id, period_key)             -- one execution per period
);
CREATE INDEX idx_job_exec_job_id ON job_executions (job_id, started_at DESC);
CREATE INDEX idx_job_exec_status ON job_executions (status, started_at DESC);
CREATE INDEX idx_job_exec_started_at ON job_executions (started_at DESC);
