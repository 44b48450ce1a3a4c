-- EXAMPLE DATA ONLY. These tables belong to the shipped example jobs
-- (lib/jobs/examples/): they stand in for a SaaS's own tables so the demo
-- jobs have real rows to work on. Jobwatch itself never reads them, and
-- they stay empty unless JOBWATCH_EXAMPLES is on. Nothing here refers to
-- the Jobwatch tables.

-- Raw metering events, as a product would record them (example).
CREATE TABLE usage_events (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  metric       TEXT NOT NULL,            -- e.g. 'api_calls', 'emails_sent'
  quantity     NUMERIC NOT NULL,
  occurred_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The usage report and the digest read one time range at a time.
CREATE INDEX usage_events_occurred_at_idx ON usage_events (occurred_at);

-- Daily totals written by the usage-report example; one row per day,
-- workspace and metric, so a re-run overwrites instead of adding.
CREATE TABLE usage_daily (
  day          DATE NOT NULL,
  workspace_id TEXT NOT NULL,
  metric       TEXT NOT NULL,
  total        NUMERIC NOT NULL,
  events       INTEGER NOT NULL,
  PRIMARY KEY (day, workspace_id, metric)
);

-- Customer workspaces the weekly-digest example "writes" to (example).
CREATE TABLE demo_workspaces (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  owner_email    TEXT NOT NULL,
  active         BOOLEAN NOT NULL DEFAULT true,
  last_digest_at TIMESTAMPTZ
);

-- Subscription payments the payment-retry example "retries"; no provider is
-- ever called (example).
CREATE TABLE demo_payments (
  id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id    TEXT NOT NULL,
  amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
  status          TEXT NOT NULL CHECK (status IN ('failed', 'retrying', 'paid', 'abandoned')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ,
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The retry job picks due payments that are still open.
CREATE INDEX demo_payments_due_idx ON demo_payments (next_attempt_at)
  WHERE status IN ('failed', 'retrying');
