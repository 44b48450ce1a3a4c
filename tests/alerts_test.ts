/**
 * Raising alerts: the policy applied to real runs (in-process, external,
 * reaped), written with their outbox rows in the run's transaction, and the
 * clock's sweep for overdue jobs and reminders.
 */
import assert from "node:assert/strict";
import type { AlertHooks } from "../lib/alerts/record.ts";
import { NOT_SENT_NO_API_KEY, UNROUTED } from "../lib/alerts/record.ts";
import { findClockChanges, raiseClockAlerts, sweepAlerts } from "../lib/alerts/sweep.ts";
import type { Sql } from "../lib/db/mod.ts";
import { migrate } from "../lib/db/migrate.ts";
import { EventBus } from "../lib/events.ts";
import { createRegistry, defineJob, type Job } from "../lib/jobs/define.ts";
import { failRun, reportRun, startRun } from "../lib/jobs/external.ts";
import { createJobToken } from "../lib/jobs/tokens.ts";
import { createMemoryLogger } from "../lib/log.ts";
import { getExecution } from "../lib/queries/executions.ts";
import { setJobEnabled } from "../lib/queries/jobs.ts";
import { makeUser } from "./helpers/app.ts";
import {
  createEmptyDatabase,
  createTestDatabase,
  dbTest,
  migrateBefore,
  type TestDatabase,
} from "./helpers/db.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";
import { createClock, createScheduler, syncJobs, type TestClock } from "./helpers/scheduler.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Routing as with RESEND_API_KEY and ALERT_TO set; counts wake-ups. */
function emailRouting(alertTo = ["ops@example.com"]): AlertHooks & { wakes: number } {
  const hooks = {
    wakes: 0,
    routing: { email: { configured: true, alertTo }, webhookHost: null },
    queued: () => hooks.wakes++,
  };
  return hooks;
}

interface AlertRow {
  id: string;
  jobId: string;
  executionId: string | null;
  kind: string;
  details: Record<string, unknown>;
  suppressed: boolean;
  deliveries: { channel: string; state: string; recipients: string[]; lastError: string | null }[];
}

async function listAlertRows(sql: Sql): Promise<AlertRow[]> {
  return await sql<AlertRow[]>`
    SELECT a.id::text, a.job_id, a.execution_id, a.kind, a.details, a.suppressed,
           COALESCE((SELECT json_agg(json_build_object('channel', o.channel, 'state', o.state,
                       'recipients', o.recipients, 'lastError', o.last_error) ORDER BY o.id)
                     FROM alert_outbox o WHERE o.alert_id = a.id), '[]') AS deliveries
    FROM alerts a ORDER BY a.id
  `;
}

async function alertState(sql: Sql, jobId: string) {
  const [row] = await sql<{ consecutiveFailures: number; overdueSince: Date | null }[]>`
    SELECT consecutive_failures, overdue_since FROM job_alert_state WHERE job_id = ${jobId}
  `;
  return row;
}

/** A per-minute job whose runs fail or succeed as `outcomes` says, in order. */
function scriptedJob(outcomes: ("S" | "F")[], options: Partial<Parameters<typeof defineJob>[0]> = {}): Job {
  let index = 0;
  return defineJob(
    {
      id: "digest",
      displayName: "Weekly Digest Email",
      schedule: "* * * * *",
      run: () => {
        if (outcomes[index++] === "F") throw new Error(`SMTP timeout on run ${index}`);
        return { sent: index };
      },
      ...options,
    } as Parameters<typeof defineJob>[0],
  );
}

/** An Authorization header with a new token of the job "lambda". */
async function lambdaBearer(sql: Sql): Promise<string> {
  return `Bearer ${(await createJobToken(sql, "lambda")).token}`;
}

/** Makes every insert into alerts fail with "alerts are broken". */
async function breakAlertInserts(sql: Sql): Promise<void> {
  await sql.unsafe(`
    CREATE FUNCTION refuse_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'alerts are broken'; END $$;
    CREATE TRIGGER refuse_alerts BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION refuse_alerts();
  `);
}

async function runTicks(db: TestDatabase, job: Job, clock: TestClock, ticks: number, hooks: AlertHooks) {
  await syncJobs(db.sql, [job], clock);
  const scheduler = createScheduler(db.sql, [job], clock, "test", hooks);
  await scheduler.tickAndSettle(); // sets the cursor
  for (let i = 0; i < ticks; i++) {
    clock.advance(MIN);
    await scheduler.tickAndSettle();
  }
  return scheduler;
}

async function withDb(fn: (db: TestDatabase) => Promise<void>) {
  const db = await createTestDatabase();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

Deno.test({
  name: "S F F F F F F S alerts on the 1st, 3rd and 6th failure and one recovery, each queued by e-mail",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const admin = await makeUser(db, { role: "admin", email: "ada@example.com" });
      await makeUser(db, { role: "viewer", email: "vic@example.com" });
      const hooks = emailRouting(["ops@example.com", "ADA@example.com"]);
      const clock = createClock();
      await runTicks(db, scriptedJob(["S", "F", "F", "F", "F", "F", "F", "S"]), clock, 8, hooks);

      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => [a.kind, a.details.consecutiveFailures]), [
        ["failure", 1],
        ["failure", 3],
        ["failure", 6],
        ["recovery", 6],
      ]);
      for (const alert of alerts) {
        assert.deepEqual(alert.deliveries, [{
          channel: "email",
          state: "pending",
          // Admins (not viewers) and ALERT_TO, each once.
          recipients: [admin.email, "ops@example.com"],
          lastError: null,
        }]);
        const execution = await getExecution(db.sql, alert.executionId!);
        assert.equal(execution?.status, alert.kind === "recovery" ? "completed" : "failed");
      }
      assert.equal(alerts[0].details.errorMessage, "SMTP timeout on run 2");
      assert.equal(typeof alerts[3].details.downForMs, "number");
      assert.equal(hooks.wakes, 4);
      assert.equal((await alertState(db.sql, "digest")).consecutiveFailures, 0);
    }),
});

Deno.test({
  name: "without RESEND_API_KEY an alert is recorded as not sent, with the reason",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      await makeUser(db, { role: "admin" });
      await runTicks(db, scriptedJob(["F"]), createClock(), 1, UNROUTED);
      const [alert] = await listAlertRows(db.sql);
      assert.equal(alert.kind, "failure");
      assert.deepEqual(alert.deliveries.map((d) => [d.state, d.lastError]), [[
        "not_sent",
        NOT_SENT_NO_API_KEY,
      ]]);
    }),
});

Deno.test({
  name: "a snoozed job's alerts are recorded as suppressed, and its streak still counts",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      await makeUser(db, { role: "admin" });
      const clock = createClock();
      const job = scriptedJob(["F", "F"]);
      await syncJobs(db.sql, [job], clock);
      await db.sql`UPDATE job_alert_state SET snoozed_until = ${new Date(clock.now.getTime() + HOUR)}`;
      await runTicks(db, job, clock, 2, emailRouting());
      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => [a.kind, a.suppressed, a.deliveries[0].state]), [
        ["failure", true, "suppressed"],
      ]);
      assert.equal((await alertState(db.sql, "digest")).consecutiveFailures, 2);
    }),
});

Deno.test({
  name: "a timeout and a reaped run count as failures; skipped runs do not break a streak",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const slow = defineJob({
        id: "slow",
        displayName: "Slow",
        schedule: "* * * * *",
        timeoutSeconds: 1,
        alert: { every: 1 },
        run: ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      });
      await runTicks(db, slow, clock, 1, emailRouting());
      // A run left running by a dead process is reaped after its deadline plus grace.
      await db.sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at)
        VALUES ('slow', 'lost', 'lost', 'running', ${new Date(clock.now.getTime() - HOUR)})
      `;
      await db.sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at, completed_at)
        VALUES ('slow', 'skip', 'skip', 'skipped', ${clock.now}, ${clock.now})
      `;
      const scheduler = createScheduler(db.sql, [slow], clock, "reaper", emailRouting());
      await db.sql`UPDATE job_definitions SET enabled = false`;
      await scheduler.tick();
      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => [a.kind, a.details.consecutiveFailures]), [["failure", 1], [
        "failure",
        2,
      ]]);
      assert.match(String(alerts[0].details.errorMessage), /timed out after 1 s/);
      assert.match(String(alerts[1].details.errorMessage), /lost: no completion reported/);
    }),
});

Deno.test({
  name: "external runs raise alerts too: a failed start/fail pair and a failed one-shot report",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = defineJob({
        id: "lambda",
        displayName: "Lambda <b>export</b>",
        schedule: "rate(1 hour)",
        external: true,
        alert: { every: 1 },
      });
      await syncJobs(db.sql, [job], clock);
      const deps = {
        sql: db.sql,
        now: () => clock.now,
        registry: createRegistry([job]),
        bus: new EventBus(),
        instanceId: "test",
        alerts: emailRouting(),
      };
      const bearer = await lambdaBearer(db.sql);
      const started = await startRun(deps, bearer, "lambda", {});
      await failRun(deps, bearer, started.id, { error: "</pre><script>alert(1)</script>" });
      clock.advance(HOUR);
      await reportRun(deps, bearer, "lambda", { status: "failed", error: "exit 2", durationMs: 500 });
      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => [a.kind, a.details.errorMessage, a.details.trigger]), [
        ["failure", "</pre><script>alert(1)</script>", "external"],
        ["failure", "exit 2", "external"],
      ]);
    }),
});

Deno.test({
  name: "an external job that misses its hour is overdue once, and back on schedule when it reports",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock("2027-03-01T10:00:00Z");
      const job = defineJob({
        id: "lambda",
        displayName: "Lambda",
        schedule: "rate(1 hour)",
        external: true,
      });
      await syncJobs(db.sql, [job], clock);
      await db.sql`UPDATE job_definitions SET created_at = ${clock.now}`;
      await db.sql`UPDATE job_alert_state SET watch_from = NULL`;
      const registry = createRegistry([job]);
      const hooks = emailRouting();
      const sweep = () => sweepAlerts({ sql: db.sql, registry, alerts: hooks, now: clock.now });

      // rate(1 hour) from 10:00: expected at 11:00, late after 11:06.
      clock.advance(HOUR + 5 * MIN);
      assert.equal(await sweep(), 0);
      clock.advance(2 * MIN);
      assert.equal(await sweep(), 1);
      clock.advance(30 * MIN);
      assert.equal(await sweep(), 0, "overdue is raised once");
      const deps = {
        sql: db.sql,
        now: () => clock.now,
        registry,
        bus: new EventBus(),
        instanceId: "t",
        alerts: hooks,
      };
      await reportRun(deps, await lambdaBearer(db.sql), "lambda", { status: "completed", durationMs: 1000 });
      assert.equal(await sweep(), 1);
      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => [a.kind, a.executionId]), [["overdue", null], [
        "back_on_schedule",
        null,
      ]]);
      assert.equal(alerts[0].details.expectedBy, "2027-03-01T11:06:00.000Z");
      assert.equal(alerts[0].details.lastStartedAt, null);
      assert.equal((await alertState(db.sql, "lambda")).overdueSince, null);
    }),
});

Deno.test({
  name: "an overdue job found by one sweep and raised by another in between is raised once",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock("2027-03-01T10:00:00Z");
      const job = defineJob({
        id: "lambda",
        displayName: "Lambda",
        schedule: "rate(1 hour)",
        external: true,
      });
      await syncJobs(db.sql, [job], clock);
      clock.advance(HOUR + 7 * MIN);
      const deps = { sql: db.sql, registry: createRegistry([job]), alerts: emailRouting(), now: clock.now };
      // The tick reads, then starts its runs, then raises: another instance may sweep in between.
      const found = await findClockChanges(deps);
      assert.deepEqual(found.map((change) => change.jobId), ["lambda"]);
      assert.equal((await listAlertRows(db.sql)).length, 0, "finding writes nothing");
      assert.equal(await sweepAlerts(deps), 1);
      assert.equal(await raiseClockAlerts(deps, found), 0, "decided again under the lock");
      assert.deepEqual((await listAlertRows(db.sql)).map((a) => a.kind), ["overdue"]);
    }),
});

Deno.test({
  name: "disabling an overdue job and enabling it again starts its watch afresh, without alerts",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock("2027-03-01T10:00:00Z");
      const job = defineJob({
        id: "lambda",
        displayName: "Lambda",
        schedule: "rate(1 hour)",
        external: true,
      });
      await syncJobs(db.sql, [job], clock);
      await db.sql`UPDATE job_alert_state SET overdue_since = ${clock.now}`;
      await setJobEnabled(db.sql, "lambda", false, clock.now);
      clock.advance(10 * HOUR);
      await setJobEnabled(db.sql, "lambda", true, clock.now);
      const sweep = () =>
        sweepAlerts({ sql: db.sql, registry: createRegistry([job]), alerts: emailRouting(), now: clock.now });
      assert.equal(await sweep(), 0);
      assert.equal((await alertState(db.sql, "lambda")).overdueSince, null);
      clock.advance(HOUR + 7 * MIN);
      assert.equal(await sweep(), 1);
    }),
});

Deno.test({
  name: "remindEvery reminds a still-failing job from the clock, once per period",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      await makeUser(db, { role: "admin" });
      const clock = createClock();
      const job = scriptedJob(["F"], { alert: { remindEvery: "24h" } });
      const scheduler = await runTicks(db, job, clock, 1, emailRouting());
      await db.sql`UPDATE job_definitions SET enabled = false`; // no more runs; the streak stays
      clock.advance(24 * HOUR);
      await scheduler.tick();
      clock.advance(HOUR);
      await scheduler.tick();
      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => a.kind), ["failure"], "a disabled job is not reminded about");
      await setJobEnabled(db.sql, "digest", true, clock.now);
      await sweepAlerts({
        sql: db.sql,
        registry: scheduler.deps.registry,
        alerts: emailRouting(),
        now: clock.now,
      });
      await sweepAlerts({
        sql: db.sql,
        registry: scheduler.deps.registry,
        alerts: emailRouting(),
        now: clock.now,
      });
      const after = await listAlertRows(db.sql);
      assert.deepEqual(after.map((a) => a.kind), ["failure", "reminder"]);
      assert.equal(after[1].executionId, after[0].executionId);
      assert.equal(after[1].details.errorMessage, "SMTP timeout on run 1");
    }),
});

Deno.test({
  name: "a run faster than minDurationMs warns once; alert: false raises nothing",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const fast = scriptedJob(["S", "S"], { minDurationMs: 60_000 });
      await runTicks(db, fast, clock, 2, emailRouting());
      const alerts = await listAlertRows(db.sql);
      assert.deepEqual(alerts.map((a) => [a.kind, a.details.warning, a.details.limitMs]), [[
        "warning",
        "fast",
        60_000,
      ]]);

      await db.sql`DELETE FROM alert_outbox`;
      await db.sql`DELETE FROM alerts`;
      const quiet = defineJob({
        id: "quiet",
        displayName: "Quiet",
        schedule: "* * * * *",
        alert: false,
        run: () => {
          throw new Error("nobody hears this");
        },
      });
      await runTicks(db, quiet, clock, 2, emailRouting());
      assert.equal((await listAlertRows(db.sql)).length, 0);
      assert.equal((await alertState(db.sql, "quiet")).consecutiveFailures, 2);
    }),
});

Deno.test({
  name: "a webhook, when configured, gets its own outbox row per alert, named by host only",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      await makeUser(db, { role: "admin" });
      const hooks: AlertHooks = {
        routing: { email: { configured: false, alertTo: [] }, webhookHost: "hooks.slack.com" },
        queued: () => {},
      };
      await runTicks(db, scriptedJob(["F"]), createClock(), 1, hooks);
      const [alert] = await listAlertRows(db.sql);
      assert.deepEqual(alert.deliveries.map((d) => [d.channel, d.state, d.recipients]), [
        ["email", "not_sent", alert.deliveries[0].recipients],
        ["webhook", "pending", ["hooks.slack.com"]],
      ]);
    }),
});

Deno.test({
  name:
    "upgrading to alerting starts each job's streak from its history, so no old failure is announced as new",
  ...dbTest,
  fn: async () => {
    const db = await createEmptyDatabase();
    try {
      await migrateBefore(db.sql, "0005");
      await makeJob(db.sql, "failing");
      await makeJob(db.sql, "fine");
      const day = (n: number) => new Date(Date.UTC(2027, 2, n, 9));
      await makeExecution(db.sql, { jobId: "failing", startedAt: day(1), status: "failed", durationMs: 10 });
      await makeExecution(db.sql, {
        jobId: "failing",
        startedAt: day(2),
        status: "completed",
        durationMs: 10,
      });
      await makeExecution(db.sql, { jobId: "failing", startedAt: day(3), status: "failed", durationMs: 10 });
      await makeExecution(db.sql, { jobId: "failing", startedAt: day(4), status: "skipped", durationMs: 0 });
      await makeExecution(db.sql, { jobId: "failing", startedAt: day(5), status: "failed", durationMs: 10 });
      await makeExecution(db.sql, { jobId: "fine", startedAt: day(5), status: "completed", durationMs: 10 });
      await migrate(db.sql);
      const states = await db.sql<
        { jobId: string; consecutiveFailures: number; failingSince: Date | null }[]
      >`
        SELECT job_id, consecutive_failures, failing_since FROM job_alert_state ORDER BY job_id
      `;
      assert.deepEqual(
        states.map((s) => [s.jobId, s.consecutiveFailures, s.failingSince?.toISOString() ?? null]),
        [
          ["failing", 2, "2027-03-03T09:00:00.010Z"],
          ["fine", 0, null],
        ],
      );
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "when raising an alert fails, the run's outcome is still recorded and the failure logged",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      await breakAlertInserts(db.sql);
      const log = createMemoryLogger();
      const hooks: AlertHooks = { ...emailRouting(), log };
      const clock = createClock();
      await runTicks(db, scriptedJob(["F"]), clock, 1, hooks);
      const runs = await db.sql<{ status: string }[]>`SELECT status FROM job_executions`;
      assert.deepEqual(runs.map((r) => r.status), ["failed"]);
      assert.equal((await listAlertRows(db.sql)).length, 0);
      assert.ok(
        log.lines.some((line) =>
          /ERROR raising alerts for finished runs failed.*alerts are broken/.test(line)
        ),
      );
    }),
});

Deno.test({
  name: "when raising an alert fails, an external run's failure and a one-shot report are still recorded",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      await breakAlertInserts(db.sql);
      const clock = createClock();
      const job = defineJob({
        id: "lambda",
        displayName: "Lambda",
        schedule: "rate(1 hour)",
        external: true,
      });
      await syncJobs(db.sql, [job], clock);
      const log = createMemoryLogger();
      const deps = {
        sql: db.sql,
        now: () => clock.now,
        registry: createRegistry([job]),
        bus: new EventBus(),
        instanceId: "t",
        alerts: { ...emailRouting(), log },
      };
      const bearer = await lambdaBearer(db.sql);
      const started = await startRun(deps, bearer, "lambda", {});
      assert.deepEqual(await failRun(deps, bearer, started.id, { error: "exit 1" }), {
        id: started.id,
        status: "failed",
      });
      clock.advance(HOUR);
      const reported = await reportRun(deps, bearer, "lambda", { status: "failed", error: "exit 2" });
      const runs = await db.sql<{ id: string; status: string }[]>`
        SELECT id, status FROM job_executions ORDER BY started_at
      `;
      assert.deepEqual([...runs], [{ id: started.id, status: "failed" }, {
        id: reported.id,
        status: "failed",
      }]);
      assert.equal((await listAlertRows(db.sql)).length, 0);
      const logged = log.lines.filter((line) => /ERROR raising alerts for finished runs failed/.test(line));
      assert.equal(logged.length, 2);
      assert.ok(logged[0].includes(started.id) && logged[1].includes(reported.id), logged.join("\n"));
      assert.ok(logged.every((line) => /recorded without them.*alerts are broken/.test(line)));
    }),
});

Deno.test({
  name: "a job whose schedule changes in code is watched afresh, not called overdue by its old rhythm",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock("2027-03-01T09:00:00Z"); // a Monday
      const weekly = defineJob({
        id: "lambda",
        displayName: "Lambda",
        schedule: "cron(0 9 ? * MON *)",
        external: true,
      });
      await syncJobs(db.sql, [weekly], clock);
      const deps = {
        sql: db.sql,
        now: () => clock.now,
        registry: createRegistry([weekly]),
        bus: new EventBus(),
        instanceId: "t",
      };
      await reportRun(deps, await lambdaBearer(db.sql), "lambda", { status: "completed", durationMs: 1000 });
      clock.advance(3 * 24 * HOUR); // Thursday: the weekly job is fine
      const daily = defineJob({
        id: "lambda",
        displayName: "Lambda",
        schedule: "cron(0 9 * * ? *)",
        external: true,
      });
      await syncJobs(db.sql, [daily], clock);
      const sweep = () =>
        sweepAlerts({
          sql: db.sql,
          registry: createRegistry([daily]),
          alerts: emailRouting(),
          now: clock.now,
        });
      assert.equal(await sweep(), 0, "not late by the new schedule counted from Monday's run");
      clock.advance(24 * HOUR + 2.5 * HOUR); // Friday 11:30: the first daily run (Friday 09:00) + 2.4 h passed
      assert.equal(await sweep(), 1);
    }),
});
