/**
 * /metrics (Prometheus text, from the database's running totals) and the
 * status badges.
 */
import assert from "node:assert/strict";
import { migrate } from "../lib/db/migrate.ts";
import { renderBadge } from "../lib/health/badge.ts";
import { listJobHealthRows } from "../lib/queries/health.ts";
import { defineJob, type Job } from "../lib/jobs/define.ts";
import { createTestApp, dbTest, type TestApp } from "./helpers/app.ts";
import { createEmptyDatabase, migrateBefore } from "./helpers/db.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";
import { parseExposition } from "./helpers/prometheus.ts";

const NOW = new Date("2027-03-10T12:00:00Z");
const TOKEN = "a-long-enough-metrics-token";

const jobs: Job[] = [
  defineJob({ id: "digest", displayName: "Weekly <Digest> & Co", schedule: "rate(1 hour)", run: () => {} }),
  defineJob({ id: "cleanup", displayName: "Cleanup", schedule: "rate(1 hour)", run: () => {} }),
];

async function withApp(fn: (testApp: TestApp) => Promise<void>, env: Record<string, string> = {}) {
  const testApp = await createTestApp({ jobs, env });
  testApp.clock.now = NOW;
  try {
    await fn(testApp);
  } finally {
    await testApp.close();
  }
}

Deno.test({
  name: "/metrics counts executions by job and status, with a duration histogram, in valid Prometheus text",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      const sql = testApp.db.sql;
      const at = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
      await makeExecution(sql, { jobId: "digest", startedAt: at(50), durationMs: 80 });
      await makeExecution(sql, { jobId: "digest", startedAt: at(40), durationMs: 1500 });
      await makeExecution(sql, {
        jobId: "digest",
        startedAt: at(30),
        durationMs: 7_200_000,
        status: "failed",
      });
      await makeExecution(sql, { jobId: "digest", startedAt: at(20), durationMs: 0, status: "skipped" });
      // The runner's path: inserted running, then completed by an UPDATE.
      const running = await makeExecution(sql, { jobId: "cleanup", startedAt: at(10), status: "running" });
      await sql`UPDATE job_executions SET status = 'completed', completed_at = started_at + interval '250 milliseconds'
                WHERE id = ${running}`;
      await sql`UPDATE job_definitions SET scheduled_through = ${at(1)}`;

      const response = await testApp.app.request("/metrics");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const families = parseExposition(await response.text());

      const total = (job: string, status: string) =>
        families.value("jobwatch_executions_total", { job_id: job, status });
      assert.deepEqual(
        [
          total("digest", "completed"),
          total("digest", "failed"),
          total("digest", "skipped"),
          total("cleanup", "completed"),
        ],
        [2, 1, 1, 1],
      );
      assert.equal(total("cleanup", "running"), undefined, "running runs are not counted until they finish");

      assert.equal(families.types.get("jobwatch_execution_duration_seconds"), "histogram");
      const bucket = (job: string, le: string) =>
        families.value("jobwatch_execution_duration_seconds_bucket", { job_id: job, le });
      assert.equal(bucket("digest", "0.1"), 1);
      assert.equal(bucket("digest", "2.5"), 2);
      assert.equal(bucket("digest", "3600"), 2, "a 2-hour run is only in +Inf");
      assert.equal(bucket("digest", "+Inf"), 3);
      assert.equal(
        families.value("jobwatch_execution_duration_seconds_count", { job_id: "digest" }),
        3,
        "skipped runs are not in the histogram",
      );
      assert.equal(
        families.value("jobwatch_execution_duration_seconds_sum", { job_id: "digest" }),
        0.08 + 1.5 + 7200,
      );
      assert.deepEqual([bucket("cleanup", "0.1"), bucket("cleanup", "0.25"), bucket("cleanup", "+Inf")], [
        0,
        1,
        1,
      ]);

      assert.equal(families.value("jobwatch_job_last_status", { job_id: "digest", status: "failed" }), 1);
      assert.equal(families.value("jobwatch_job_last_status", { job_id: "digest", status: "completed" }), 0);
      assert.equal(families.value("jobwatch_job_last_status", { job_id: "cleanup", status: "completed" }), 1);
      assert.equal(
        families.value("jobwatch_job_last_success_timestamp_seconds", { job_id: "digest" }),
        at(40).getTime() / 1000,
      );
      assert.equal(families.value("jobwatch_job_healthy", { job_id: "digest" }), 0);
      assert.equal(families.value("jobwatch_scheduler_lag_seconds", {}), 60);
      assert.equal(families.value("jobwatch_alert_deliveries", { channel: "email", state: "failed" }), 0);
    }),
});

Deno.test({
  name: "alert deliveries are counted by channel and state",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      const sql = testApp.db.sql;
      const [{ id }] = await sql<{ id: string }[]>`
        INSERT INTO alerts (job_id, job_name, kind) VALUES ('digest', 'Digest', 'failure') RETURNING id::text
      `;
      for (const state of ["sent", "sent", "failed"]) {
        await sql`INSERT INTO alert_outbox (alert_id, channel, state, next_attempt_at, created_at)
                  VALUES (${id}::bigint, 'email', ${state}, now(), now())`;
      }
      const families = parseExposition(await (await testApp.app.request("/metrics")).text());
      assert.equal(families.value("jobwatch_alert_deliveries", { channel: "email", state: "sent" }), 2);
      assert.equal(families.value("jobwatch_alert_deliveries", { channel: "email", state: "failed" }), 1);
      assert.equal(families.value("jobwatch_alert_deliveries", { channel: "webhook", state: "sent" }), 0);
    }),
});

Deno.test({
  name: "METRICS_TOKEN makes /metrics private",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      const anonymous = await testApp.app.request("/metrics");
      assert.equal(anonymous.status, 401);
      assert.doesNotMatch(await anonymous.text(), /jobwatch_/);
      const bearer = await testApp.app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(bearer.status, 200);
      await bearer.body?.cancel();
    }, { METRICS_TOKEN: TOKEN }),
});

Deno.test({
  name: "upgrading counts the history so far, and the counters never go down when old runs are deleted",
  ...dbTest,
  fn: async () => {
    const db = await createEmptyDatabase();
    try {
      await migrateBefore(db.sql, "0006");
      await makeJob(db.sql, "old");
      for (
        const [ms, status] of [[50, "completed"], [400, "completed"], [400, "failed"], [
          0,
          "skipped",
        ]] as const
      ) {
        await makeExecution(db.sql, { jobId: "old", startedAt: NOW, durationMs: ms, status });
      }
      await makeExecution(db.sql, { jobId: "old", startedAt: NOW, status: "running" });
      await migrate(db.sql);
      const stats = await db.sql<
        { status: string; runs: string; durationSumMs: string; buckets: string[] }[]
      >`
        SELECT status, runs::text, duration_sum_ms::text, buckets::text[] FROM job_execution_stats ORDER BY status
      `;
      assert.deepEqual(stats.map((s) => [s.status, s.runs, s.durationSumMs, s.buckets.slice(0, 4).join()]), [
        ["completed", "2", "450", "1,0,1,0"],
        ["failed", "1", "400", "0,0,1,0"],
        ["skipped", "1", "0", "0,0,0,0"],
      ]);
      await db.sql`DELETE FROM job_executions`;
      const [{ runs }] = await db.sql<
        { runs: string }[]
      >`SELECT sum(runs)::text AS runs FROM job_execution_stats`;
      assert.equal(runs, "4");
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "badges are off by default; with BADGES=on a job's badge shows its escaped name and state",
  ...dbTest,
  fn: async () => {
    await withApp(async (testApp) => {
      const off = await testApp.app.request("/badge/digest.svg");
      assert.equal(off.status, 404);
      await off.body?.cancel();
    });
    await withApp(async (testApp) => {
      await makeExecution(testApp.db.sql, { jobId: "cleanup", startedAt: NOW, durationMs: 5 });
      const response = await testApp.app.request("/badge/cleanup.svg");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "image/svg+xml; charset=utf-8");
      const svg = await response.text();
      assert.match(svg, /<title>cleanup: passing<\/title>/);
      const digest = await (await testApp.app.request("/badge/digest.svg")).text();
      assert.ok(digest.includes("weekly &#60;digest&#62; &#38; co"), digest);
      assert.ok(!digest.includes("<digest>"));
      const unknown = await testApp.app.request("/badge/nope.svg");
      assert.equal(unknown.status, 404);
      await unknown.body?.cancel();
    }, { BADGES: "on" });
  },
});

Deno.test("a badge's width grows with its text and every state has its word", () => {
  const short = renderBadge("a", "ok");
  const long = renderBadge("a much longer job name", "failing");
  const width = (svg: string) => Number(/width="(\d+)"/.exec(svg)![1]);
  assert.ok(width(long) > width(short));
  assert.match(long, />failing</);
  for (
    const [state, word] of [["late", "late"], ["new", "new"], ["disabled", "disabled"], [
      "unknown",
      "unknown",
    ]]
  ) {
    assert.match(renderBadge("job", state as "late"), new RegExp(`>${word}<`));
  }
});

Deno.test("the test's exposition reader refuses what Prometheus would", () => {
  const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{job="a\\"b"} 1\n';
  assert.equal(parseExposition(ok).value("a_total", { job: 'a"b' }), 1);
  assert.throws(() => parseExposition("a_total 1\n"), /no TYPE before a_total/);
  assert.throws(() => parseExposition('# TYPE a gauge\na{job="x"y"} 1\n'), /not a valid line/);
  const histogram = (inf: number) =>
    `# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} ${inf}\nh_sum 1\nh_count 2\n`;
  assert.doesNotThrow(() => parseExposition(histogram(2)));
  assert.throws(() => parseExposition(histogram(1)), /cumulative/);
});

Deno.test({
  name: "each duration lands in the first bucket whose bound it does not exceed, bound included",
  ...dbTest,
  fn: () =>
    withApp(async (testApp) => {
      const sql = testApp.db.sql;
      const [{ bounds }] = await sql<{ bounds: number[] }[]>`SELECT jobwatch_duration_bounds_ms() AS bounds`;
      const probes = bounds.flatMap((bound) => [bound, bound + 1]).concat([0, -5]);
      const rows = await sql<{ ms: number; bucket: number }[]>`
        SELECT ms, jobwatch_duration_bucket(ms) AS bucket FROM unnest(${sql.array(probes)}::int[]) AS ms
      `;
      const bucketOf = new Map(rows.map((row) => [row.ms, row.bucket]));
      bounds.forEach((bound, index) => {
        assert.equal(bucketOf.get(bound), index + 1, `${bound} ms is in le=${bound}`);
        assert.equal(bucketOf.get(bound + 1), index + 2, `${bound + 1} ms is in the next bucket`);
      });
      assert.equal(bucketOf.get(0), 1);
      assert.equal(bucketOf.get(-5), 1);
    }),
});

Deno.test({
  name: "each job's latest success and failure come from its counters: filled on upgrade, moved only forward",
  ...dbTest,
  fn: async () => {
    const db = await createEmptyDatabase();
    const sql = db.sql;
    const latest = async () => {
      const [row] = await listJobHealthRows(sql);
      return [row.lastSuccessAt?.toISOString() ?? null, row.lastFailureAt?.toISOString() ?? null];
    };
    try {
      await migrateBefore(sql, "0007");
      await makeJob(sql, "old");
      await makeExecution(sql, { jobId: "old", startedAt: "2027-03-01T00:00:00Z", status: "completed" });
      await makeExecution(sql, { jobId: "old", startedAt: "2027-03-02T00:00:00Z", status: "completed" });
      await makeExecution(sql, { jobId: "old", startedAt: "2027-03-03T00:00:00Z", status: "failed" });
      await makeExecution(sql, { jobId: "old", startedAt: "2027-03-04T00:00:00Z", status: "skipped" });
      await migrate(sql);
      assert.deepEqual(await latest(), ["2027-03-02T00:00:00.000Z", "2027-03-03T00:00:00.000Z"]);

      // A run reported late, started before the latest success, does not move it back.
      await makeExecution(sql, { jobId: "old", startedAt: "2027-02-01T00:00:00Z", status: "completed" });
      assert.deepEqual(await latest(), ["2027-03-02T00:00:00.000Z", "2027-03-03T00:00:00.000Z"]);
      // A run that starts and then finishes moves it forward once it has finished.
      const running = await makeExecution(sql, {
        jobId: "old",
        startedAt: "2027-03-05T00:00:00Z",
        status: "running",
      });
      assert.deepEqual(await latest(), ["2027-03-02T00:00:00.000Z", "2027-03-03T00:00:00.000Z"]);
      await sql`UPDATE job_executions SET status = 'failed', completed_at = started_at WHERE id = ${running}`;
      assert.deepEqual(await latest(), ["2027-03-02T00:00:00.000Z", "2027-03-05T00:00:00.000Z"]);
    } finally {
      await db.close();
    }
  },
});
