/**
 * /health/jobs, /health, /health/ready: every state with a fake clock, the
 * derived max ages, one query for a burst, and 503 within 2 s when the
 * database does not answer.
 */
import assert from "node:assert/strict";
import { HealthMonitor } from "../lib/health/monitor.ts";
import { derivedMaxAgeMs, HOUR_MS, jobHealth, type JobHealthFacts } from "../lib/health/state.ts";
import { connectPostgres } from "../lib/db/mod.ts";
import { defineJob, type Job } from "../lib/jobs/define.ts";
import { parseSchedule } from "../lib/jobs/schedule.ts";
import { createTestApp, dbTest, type TestApp } from "./helpers/app.ts";
import { createEmptyDatabase } from "./helpers/db.ts";
import { makeExecution } from "./helpers/fixtures.ts";

const NOW = new Date("2027-03-10T12:00:00Z"); // a Wednesday

const jobs: Job[] = [
  defineJob({
    id: "digest",
    displayName: "Weekly Digest",
    schedule: "cron(0 9 ? * MON *)",
    timezone: "America/New_York",
    critical: true,
    maxAgeHours: 168,
    run: () => {},
  }),
  defineJob({
    id: "payments",
    displayName: "Payments",
    schedule: "rate(1 hour)",
    critical: true,
    run: () => {},
  }),
  defineJob({
    id: "cleanup",
    displayName: "Cleanup",
    schedule: "cron(0 3 * * ? *)",
    critical: true,
    run: () => {},
  }),
  defineJob({ id: "report", displayName: "Report", schedule: "cron(5 0 * * ? *)", run: () => {} }),
  defineJob({
    id: "lambda",
    displayName: "Lambda",
    schedule: "rate(1 hour)",
    critical: true,
    external: true,
  }),
  defineJob({ id: "off", displayName: "Off", schedule: "rate(1 hour)", critical: true, run: () => {} }),
];

async function healthApp(
  options: { env?: Record<string, string>; healthCacheMs?: number } = {},
): Promise<TestApp> {
  const testApp = await createTestApp({ jobs, ...options });
  testApp.clock.now = NOW;
  const sql = testApp.db.sql;
  await sql`UPDATE job_definitions SET created_at = ${new Date("2027-03-01T00:00:00Z")}`;
  await sql`UPDATE job_alert_state SET watch_from = NULL`;
  return testApp;
}

/** The states of the top of this file's comment, as rows. */
async function seedStates(testApp: TestApp) {
  const sql = testApp.db.sql;
  const hour = (h: number) => new Date(NOW.getTime() - h * HOUR_MS);
  await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-08T14:00:00Z", durationMs: 1000 });
  await makeExecution(sql, { jobId: "payments", startedAt: hour(1), durationMs: 500 });
  await makeExecution(sql, { jobId: "payments", startedAt: hour(0.5), durationMs: 500, status: "failed" });
  await makeExecution(sql, { jobId: "cleanup", startedAt: "2027-03-09T03:00:00Z", durationMs: 2000 });
  await sql`UPDATE job_definitions SET created_at = ${hour(1)} WHERE id = 'report'`;
  await sql`UPDATE job_definitions SET created_at = ${hour(3)} WHERE id = 'lambda'`;
  await sql`UPDATE job_definitions SET enabled = false WHERE id = 'off'`;
}

async function withApp(fn: (testApp: TestApp) => Promise<void>, options?: Parameters<typeof healthApp>[0]) {
  const testApp = await healthApp(options);
  try {
    await fn(testApp);
  } finally {
    await testApp.close();
  }
}

Deno.test({
  name: "each job gets its state; the answer is 503 when a critical job is failing or late",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      await seedStates(testApp);
      const response = await testApp.app.request("/health/jobs");
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const text = await response.text();
      assert.ok(!text.includes("Infinity"), "valid JSON: never-run jobs have null, not Infinity");
      const body = JSON.parse(text);
      assert.equal(body.healthy, false);
      assert.equal(body.checkedAt, NOW.toISOString());
      const byId = Object.fromEntries(body.jobs.map((job: { id: string }) => [job.id, job]));
      assert.deepEqual(Object.keys(byId).sort(), [
        "cleanup",
        "digest",
        "lambda",
        "off",
        "payments",
        "report",
      ]);
      assert.deepEqual(byId.digest, {
        id: "digest",
        healthy: true,
        state: "ok",
        critical: true,
        lastSuccessAt: "2027-03-08T14:00:00.000Z",
        lastRunHoursAgo: 46,
        maxAgeHours: 168,
      });
      assert.deepEqual([byId.payments.state, byId.payments.healthy, byId.payments.lastRunHoursAgo], [
        "failing",
        false,
        1,
      ]);
      assert.deepEqual([byId.cleanup.state, byId.cleanup.maxAgeHours, byId.cleanup.lastRunHoursAgo], [
        "late",
        26.4,
        33,
      ]);
      assert.deepEqual([byId.report.state, byId.report.healthy, byId.report.lastRunHoursAgo], [
        "new",
        true,
        null,
      ]);
      assert.deepEqual([byId.lambda.state, byId.lambda.healthy], ["late", false]);
      assert.deepEqual([byId.off.state, byId.off.healthy], ["disabled", true]);
    }),
});

Deno.test({
  name:
    "only critical jobs decide: a freshly started app answers 200, and a failing non-critical job does not turn it red",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      const sql = testApp.db.sql;
      await sql`UPDATE job_definitions SET created_at = ${new Date(NOW.getTime() - 60_000)}`;
      const fresh = await testApp.app.request("/health/jobs");
      const body = await fresh.json();
      assert.equal(fresh.status, 200);
      assert.deepEqual(
        body.jobs.filter((job: { id: string }) => job.id !== "off").map((job: { state: string }) =>
          job.state
        ),
        ["new", "new", "new", "new", "new"],
      );
      await makeExecution(sql, { jobId: "report", startedAt: NOW, durationMs: 5, status: "failed" });
      const afterFailure = await testApp.app.request("/health/jobs");
      assert.equal(afterFailure.status, 200);
      assert.equal(
        (await afterFailure.json()).jobs.find((job: { id: string }) => job.id === "report").state,
        "failing",
      );
    }),
});

Deno.test({
  name: "?job= answers for one job, 404 for an unknown one; HEAD works; HEALTH_TOKEN makes it private",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      await seedStates(testApp);
      const digest = await testApp.app.request("/health/jobs?job=digest&token=a-long-enough-health-token");
      assert.equal(digest.status, 200);
      assert.deepEqual((await digest.json()).state, "ok");
      const payments = await testApp.app.request("/api/health/jobs?job=payments", {
        headers: { authorization: "Bearer a-long-enough-health-token" },
      });
      assert.equal(payments.status, 503);
      assert.equal((await payments.json()).state, "failing");
      const unknown = await testApp.app.request("/health/jobs?job=nope&token=a-long-enough-health-token");
      assert.equal(unknown.status, 404);
      assert.match((await unknown.json()).error, /no job "nope"/);

      const anonymous = await testApp.app.request("/health/jobs");
      assert.equal(anonymous.status, 401);
      const body = await anonymous.json();
      assert.deepEqual(Object.keys(body), ["error"], "nothing about the jobs without the token");
      const wrong = await testApp.app.request("/health/jobs?token=a-long-enough-health-tokeX");
      assert.equal(wrong.status, 401);

      const head = await testApp.app.request("/health/jobs?token=a-long-enough-health-token", {
        method: "HEAD",
      });
      assert.equal(head.status, 503);
      assert.equal(await head.text(), "");
    }, { env: { HEALTH_TOKEN: "a-long-enough-health-token" } }),
});

Deno.test({
  name: "a burst of 100 concurrent requests costs one database read",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      const responses = await Promise.all(
        Array.from({ length: 100 }, () => testApp.app.request("/health/jobs")),
      );
      assert.ok(responses.every((r) => r.status === 200 || r.status === 503));
      await Promise.all(responses.map((r) => r.body?.cancel()));
      assert.equal(testApp.deps.health!.loads, 1);
    }, { healthCacheMs: 5_000 }),
});

Deno.test({
  name: "a cached report is sent as the same bytes to every request, gzipped for clients that take gzip",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      await seedStates(testApp);
      const plain = await testApp.app.request("/health/jobs");
      const plainText = await plain.text();
      assert.equal(plain.headers.get("content-encoding"), null);
      assert.equal(plain.headers.get("content-type"), "application/json");
      assert.equal(plain.headers.get("cache-control"), "no-store");

      const gzipped = await Promise.all(
        [1, 2].map(() => testApp.app.request("/health/jobs", { headers: { "accept-encoding": "gzip, br" } })),
      );
      for (const response of gzipped) {
        assert.equal(response.status, plain.status);
        assert.equal(response.headers.get("content-encoding"), "gzip");
        assert.match(response.headers.get("vary") ?? "", /accept-encoding/i);
        const text = await new Response(response.body!.pipeThrough(new DecompressionStream("gzip"))).text();
        assert.equal(text, plainText, "the same report, byte for byte");
      }
      const refused = await testApp.app.request("/health/jobs", {
        headers: { "accept-encoding": "gzip;q=0" },
      });
      assert.equal(refused.headers.get("content-encoding"), null);
      assert.equal(await refused.text(), plainText);
      assert.equal(testApp.deps.health!.loads, 1);
    }, { healthCacheMs: 5_000 }),
});

Deno.test({
  name: "a database that does not answer gives 503 'database unavailable' within 2 s, with no error text",
  ...dbTest,
  fn: async () => {
    // A black hole: it accepts the connection and never says a word.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    const silent = connectPostgres(`postgres://jobwatch@127.0.0.1:${listener.addr.port}/jobwatch`);
    const testApp = await healthApp();
    try {
      const monitor = new HealthMonitor({ sql: silent.sql, now: () => NOW });
      const app = (await import("../lib/app.ts")).createApp({
        ...testApp.deps,
        sql: silent.sql,
        health: monitor,
      });
      const started = performance.now();
      // A monitor that kept a stale session cookie: the probe must not look it up in the dead database.
      const response = await app.request("/health/jobs", {
        headers: { cookie: `jobwatch_session=${"s".repeat(43)}` },
      });
      const elapsed = performance.now() - started;
      assert.equal(response.status, 503);
      assert.deepEqual(Object.keys(await response.json()).sort(), ["checkedAt", "error", "healthy"]);
      assert.ok(elapsed < 2_000, `answered after ${Math.round(elapsed)} ms`);
      const ready = await app.request("/health/ready");
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ready: false, error: "database unavailable" });
      assert.equal((await app.request("/health")).status, 200, "liveness does not need the database");
    } finally {
      listener.close();
      for (const conn of held) conn.close();
      await silent.sql.end({ timeout: 0 });
      await testApp.close();
    }
  },
});

Deno.test({
  name: "a closed database gives 503 at once",
  ...dbTest,
  fn: async () => {
    const testApp = await healthApp();
    await testApp.db.close();
    const response = await testApp.app.request("/health/jobs");
    assert.equal(response.status, 503);
    assert.deepEqual((await response.json()).error, "database unavailable");
  },
});

Deno.test({
  name: "/health/ready is 200 on a migrated database and 503 'migrations pending' on one that is not",
  ...dbTest,
  fn: async () => {
    await withApp(async (testApp) => {
      const ready = await testApp.app.request("/health/ready");
      assert.deepEqual([ready.status, await ready.json()], [200, { ready: true }]);
    });
    const empty = await createEmptyDatabase();
    try {
      const monitor = new HealthMonitor({ sql: empty.sql, now: () => NOW });
      assert.equal(await monitor.ready(), "migrations pending");
    } finally {
      await empty.close();
    }
  },
});

const HOUR = HOUR_MS;
const maxAgeHours = (expression: string, timezone = "UTC") =>
  derivedMaxAgeMs(parseSchedule(expression, timezone), NOW)! / HOUR;

Deno.test("the derived max age is the longest gap plus 10 % (at least 5 min), across DST too", () => {
  assert.equal(maxAgeHours("rate(1 hour)"), 1.1);
  assert.equal(maxAgeHours("cron(0 3 * * ? *)"), 26.4);
  assert.equal(maxAgeHours("cron(5 0 * * ? *)"), 26.4);
  // Weekly in New York: the week the clocks go back is 169 hours long.
  assert.equal(maxAgeHours("cron(0 9 ? * MON *)", "America/New_York"), 185.9);
  // Daily in New York: 25 hours across the autumn change.
  assert.equal(maxAgeHours("0 9 * * *", "America/New_York"), 27.5);
  assert.equal(Math.round(maxAgeHours("*/5 * * * *") * 60), 10, "5 minutes plus the 5-minute floor");
  // Weekdays only: the weekend gap decides.
  assert.equal(maxAgeHours("0 9 * * 1-5"), 79.2);
});

Deno.test("states from facts, with a fake clock", () => {
  const hourly = parseSchedule("rate(1 hour)", "UTC");
  const facts = (overrides: Partial<JobHealthFacts>): JobHealthFacts => ({
    id: "job",
    enabled: true,
    schedule: hourly,
    maxAgeHours: null,
    watchFrom: new Date(NOW.getTime() - 10 * HOUR),
    lastSuccessAt: null,
    lastFailureAt: null,
    runningSince: null,
    ...overrides,
  });
  const state = (overrides: Partial<JobHealthFacts>) => jobHealth(facts(overrides), 1.1 * HOUR, NOW).state;
  const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * HOUR);
  assert.equal(state({ lastSuccessAt: at(1) }), "ok");
  // rate(1 hour) started 1.2 h ago: the next run was due 0.2 h ago, grace is 6 minutes.
  assert.equal(state({ lastSuccessAt: at(1.2) }), "late");
  assert.equal(state({ lastSuccessAt: at(2), lastFailureAt: at(1) }), "failing");
  assert.equal(state({ lastSuccessAt: at(1), lastFailureAt: at(2) }), "ok", "an older failure is history");
  assert.equal(
    state({ lastSuccessAt: at(3), runningSince: at(2) }),
    "ok",
    "a long run in progress is not late",
  );
  assert.equal(state({ watchFrom: at(0.5) }), "new");
  assert.equal(
    state({ watchFrom: at(1.2) }),
    "late",
    "its first run (1 h after watching began) + 6 min passed",
  );
  assert.equal(state({ runningSince: at(0.2), watchFrom: at(5) }), "new", "its first run is still going");
  assert.equal(
    state({ lastSuccessAt: at(24 * 7), watchFrom: at(0.5) }),
    "ok",
    "re-enabled half an hour ago: watched afresh",
  );
  assert.equal(state({ enabled: false, lastFailureAt: at(1) }), "disabled");
  assert.equal(jobHealth(facts({ enabled: false }), null, NOW).healthy, true);
  // maxAgeHours only adds slack to the schedule's deadline.
  assert.equal(state({ lastSuccessAt: at(1.5), maxAgeHours: 2 }), "ok");
  assert.equal(state({ lastSuccessAt: at(2.1), maxAgeHours: 2 }), "late");
  // A schedule this code cannot read: judged by maxAgeHours alone, if there is one.
  assert.equal(state({ schedule: null, lastSuccessAt: at(5) }), "ok");
  assert.equal(state({ schedule: null, maxAgeHours: 2, lastSuccessAt: at(3) }), "late");
  assert.equal(state({ schedule: null, maxAgeHours: 2, watchFrom: at(3) }), "late");
});

Deno.test("a weekly job with maxAgeHours 168 is not late in the 169-hour week the clocks go back", () => {
  const weekly = parseSchedule("cron(0 9 ? * MON *)", "America/New_York");
  const lastRun = new Date("2027-11-01T13:00:00.200Z"); // Monday 09:00 EDT
  const health = jobHealth(
    {
      id: "digest",
      enabled: true,
      schedule: weekly,
      maxAgeHours: 168,
      watchFrom: new Date("2027-10-01T00:00:00Z"),
      lastSuccessAt: lastRun,
      lastFailureAt: null,
      runningSince: null,
    },
    null,
    new Date("2027-11-08T13:30:00Z"),
  ); // 168.5 h later, before Monday 09:00 EST (14:00Z)
  assert.deepEqual([health.state, health.maxAgeHours, health.lastRunHoursAgo], ["ok", 168, 168.5]);
});
