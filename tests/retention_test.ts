import assert from "node:assert/strict";
import type { Sql } from "../lib/db/mod.ts";
import { declaredJobs } from "../lib/jobs/mod.ts";
import { pruneExecutions, RETENTION_JOB_ID, retentionJob } from "../lib/jobs/retention.ts";
import { toStoredResult } from "../lib/jobs/runner.ts";
import { dbTest, withDatabase } from "./helpers/db.ts";
import { makeExecution, makeJob, makeJobContext } from "./helpers/fixtures.ts";

const NOW = new Date("2027-06-01T03:15:00Z");
/** With 30 days kept, the cutoff is 2027-05-02T03:15:00Z. */
const DAYS = 30;
const CUTOFF = "2027-05-02T03:15:00.000Z";
const OLD = "2027-04-01T10:00:00Z";
const YOUNG = "2027-05-31T10:00:00Z";

/** Prunes at NOW with 30 days, no pause, logging into `lines`. */
function prune(sql: Sql, options: { batchSize?: number; signal?: AbortSignal; lines?: string[] } = {}) {
  const write = (message: string) => void options.lines?.push(message);
  return pruneExecutions(sql, {
    now: NOW,
    retentionDays: DAYS,
    batchSize: options.batchSize,
    pauseMs: 0,
    signal: options.signal,
    log: { info: write, warn: write, error: write },
  });
}

/** A job whose newest run, newest success and newest failure are all young, so none of its old runs is kept. */
async function makeJobWithYoungRuns(sql: Sql, jobId: string): Promise<void> {
  await makeJob(sql, jobId);
  await makeExecution(sql, { jobId, startedAt: "2027-05-30T10:00:00Z", status: "failed", durationMs: 10 });
  await makeExecution(sql, { jobId, startedAt: YOUNG, status: "completed", durationMs: 10 });
}

/** `count` completed runs of `jobId`, one minute apart, starting at `from`. */
async function makeRuns(sql: Sql, jobId: string, count: number, from: string): Promise<void> {
  await sql`
    INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at, completed_at)
    SELECT ${jobId}, 'bulk-' || g, gen_random_uuid()::text, 'completed',
           ${from}::timestamptz + g * interval '1 minute',
           ${from}::timestamptz + g * interval '1 minute' + interval '2 seconds'
    FROM generate_series(1, ${count}::int) AS g
  `;
}

async function executionIds(sql: Sql): Promise<Set<string>> {
  const rows = await sql<{ id: string }[]>`SELECT id FROM job_executions`;
  return new Set(rows.map((row) => row.id));
}

async function countExecutions(sql: Sql, jobId: string): Promise<number> {
  const [{ count }] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM job_executions WHERE job_id = ${jobId}
  `;
  return count;
}

/** An alert of `jobId` with one outbox row per delivery state; returns its id. */
async function makeAlert(
  sql: Sql,
  fixture: { jobId: string; createdAt: string; deliveries: string[]; executionId?: string },
): Promise<string> {
  const [{ id }] = await sql<{ id: string }[]>`
    INSERT INTO alerts (job_id, job_name, execution_id, kind, created_at)
    VALUES (${fixture.jobId}, ${fixture.jobId}, ${fixture.executionId ?? null}::uuid, 'failure',
            ${fixture.createdAt}::timestamptz)
    RETURNING id::text
  `;
  for (const state of fixture.deliveries) {
    await sql`
      INSERT INTO alert_outbox (alert_id, channel, state, next_attempt_at, created_at)
      VALUES (${id}::bigint, 'email', ${state}, ${fixture.createdAt}::timestamptz,
              ${fixture.createdAt}::timestamptz)
    `;
  }
  return id;
}

/** A `sql` that aborts `controller` once a DELETE of executions has deleted something. */
function abortingAfterFirstExecutionBatch(sql: Sql, controller: AbortController): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const text = String((args[0] as TemplateStringsArray).join(""));
      const query = Reflect.apply(target, thisArg, args) as Promise<{ count: number }>;
      // Fragments (sql`AND …` inside a statement) must stay fragments: only the DELETE is watched.
      if (!text.includes("DELETE FROM job_executions")) return query;
      return query.then((result) => {
        if (text.includes("DELETE FROM job_executions") && result.count > 0) controller.abort();
        return result;
      });
    },
  });
}

Deno.test({
  name: "pruning deletes executions that started before the cutoff and keeps the younger ones",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      const young = await executionIds(sql);
      const atCutoff = await makeExecution(sql, { jobId: "digest", startedAt: CUTOFF, durationMs: 5 });
      for (const status of ["completed", "failed", "skipped"] as const) {
        await makeExecution(sql, { jobId: "digest", startedAt: OLD, status });
      }
      await makeExecution(sql, { jobId: "digest", startedAt: "2027-05-02T03:14:59.999Z" });
      const lines: string[] = [];

      const result = await prune(sql, { lines });

      assert.deepEqual(result, { cutoff: CUTOFF, deletedExecutions: 4, deletedAlerts: 0, batches: 1 });
      assert.deepEqual(await executionIds(sql), new Set([...young, atCutoff]));
      assert.deepEqual(lines, [`deleted 4 executions and 0 alerts older than ${CUTOFF}`]);
    }),
});

Deno.test({
  name: "a running execution is never deleted, however long ago it started",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      const stuck = await makeExecution(sql, { jobId: "digest", startedAt: OLD, status: "running" });

      assert.equal((await prune(sql)).deletedExecutions, 0);
      assert.ok((await executionIds(sql)).has(stuck));
    }),
});

Deno.test({
  name:
    "each job keeps its newest run, newest success and newest failure even when they are older than the cutoff",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "yearly");
      await makeExecution(sql, { jobId: "yearly", startedAt: "2026-01-01T00:00:00Z", status: "completed" });
      const lastSuccess = await makeExecution(sql, { jobId: "yearly", startedAt: "2026-02-01T00:00:00Z" });
      await makeExecution(sql, { jobId: "yearly", startedAt: "2026-03-01T00:00:00Z", status: "failed" });
      const lastFailure = await makeExecution(sql, {
        jobId: "yearly",
        startedAt: "2026-04-01T00:00:00Z",
        status: "failed",
      });
      await makeExecution(sql, { jobId: "yearly", startedAt: "2026-05-01T00:00:00Z", status: "skipped" });
      const newest = await makeExecution(sql, {
        jobId: "yearly",
        startedAt: "2026-06-01T00:00:00Z",
        status: "skipped",
      });
      await makeJob(sql, "quarterly");
      await makeExecution(sql, { jobId: "quarterly", startedAt: "2027-01-01T00:00:00Z" });
      const quarterlyNewest = await makeExecution(sql, {
        jobId: "quarterly",
        startedAt: "2027-04-01T00:00:00Z",
      });

      assert.equal((await prune(sql)).deletedExecutions, 4);
      assert.deepEqual(await executionIds(sql), new Set([lastSuccess, lastFailure, newest, quarterlyNewest]));
      assert.equal((await prune(sql)).deletedExecutions, 0, "a second prune finds nothing more to delete");
    }),
});

Deno.test({
  name: "with batches of 10, 35 old executions are deleted in 4 statements, oldest first",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      await makeRuns(sql, "digest", 35, OLD);

      const result = await prune(sql, { batchSize: 10 });

      assert.deepEqual(result, { cutoff: CUTOFF, deletedExecutions: 35, deletedAlerts: 0, batches: 4 });
      assert.equal(await countExecutions(sql, "digest"), 2);
    }),
});

Deno.test({
  name: "an aborted signal stops the prune between batches: it logs what was deleted and throws the reason",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      await makeRuns(sql, "digest", 35, OLD);
      const controller = new AbortController();
      const lines: string[] = [];

      await assert.rejects(
        () =>
          prune(abortingAfterFirstExecutionBatch(sql, controller), {
            batchSize: 10,
            signal: controller.signal,
            lines,
          }),
        { name: "AbortError" },
      );

      assert.equal(await countExecutions(sql, "digest"), 2 + 25, "only the first batch of 10 was deleted");
      assert.deepEqual(lines, ["stopped before all expired history was deleted"]);
    }),
});

Deno.test({
  name: "pruning leaves the Prometheus counters in job_execution_stats as they were",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      await makeRuns(sql, "digest", 12, OLD);
      await makeExecution(sql, { jobId: "digest", startedAt: OLD, status: "failed", durationMs: 300 });
      const stats = () =>
        sql`SELECT job_id, status, runs::text, duration_sum_ms::text, buckets::text[] FROM job_execution_stats
            ORDER BY job_id, status`;
      const before = await stats();
      assert.deepEqual(before.map((row) => [row.status, row.runs]), [["completed", "13"], ["failed", "2"]]);

      assert.equal((await prune(sql)).deletedExecutions, 13);
      assert.deepEqual(await stats(), before);
    }),
});

Deno.test({
  name: "old alerts are deleted with their deliveries once every delivery is final; pending ones wait",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest");
      const old = (deliveries: string[]) => makeAlert(sql, { jobId: "digest", createdAt: OLD, deliveries });
      await old(["sent", "failed"]);
      await old(["suppressed"]);
      await old(["not_sent", "sent"]);
      await old([]);
      const pending = await old(["sent", "pending"]);
      const sending = await old(["sending"]);
      const young = await makeAlert(sql, { jobId: "digest", createdAt: YOUNG, deliveries: ["sent"] });

      assert.deepEqual(await prune(sql, { batchSize: 3 }), {
        cutoff: CUTOFF,
        deletedExecutions: 0,
        deletedAlerts: 4,
        batches: 2,
      });
      const alerts = await sql<{ id: string }[]>`SELECT id::text FROM alerts ORDER BY id`;
      assert.deepEqual(alerts.map((row) => row.id), [pending, sending, young]);
      const outbox = await sql<{ alertId: string; state: string }[]>`
        SELECT alert_id::text, state FROM alert_outbox ORDER BY id
      `;
      assert.deepEqual(outbox.map((row) => [row.alertId, row.state]), [
        [pending, "sent"],
        [pending, "pending"],
        [sending, "sending"],
        [young, "sent"],
      ]);
    }),
});

Deno.test({
  name: "a surviving retry, and a surviving alert, lose their link to a pruned execution",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      const original = await makeExecution(sql, { jobId: "digest", startedAt: OLD, status: "failed" });
      const retry = await makeExecution(sql, {
        jobId: "digest",
        startedAt: YOUNG,
        status: "completed",
        trigger: "manual",
        retryOf: original,
      });
      const alert = await makeAlert(sql, {
        jobId: "digest",
        createdAt: YOUNG,
        deliveries: ["sent"],
        executionId: original,
      });

      assert.equal((await prune(sql)).deletedExecutions, 1);
      const [survivor] = await sql`SELECT retry_of FROM job_executions WHERE id = ${retry}`;
      assert.equal(survivor.retryOf, null);
      const [kept] = await sql`SELECT execution_id FROM alerts WHERE id = ${alert}::bigint`;
      assert.equal(kept.executionId, null);
    }),
});

Deno.test({
  name: "two prunes side by side delete every old execution once between them",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      await makeRuns(sql, "digest", 300, OLD);

      const [first, second] = await Promise.all([
        prune(sql, { batchSize: 10 }),
        prune(sql, { batchSize: 10 }),
      ]);

      assert.equal(first.deletedExecutions + second.deletedExecutions, 300);
      assert.equal(await countExecutions(sql, "digest"), 2);
    }),
});

Deno.test({
  name: "the retention job prunes with the configured days and returns a result the runner can store",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      await makeRuns(sql, "digest", 3, OLD);
      const ctx = makeJobContext(sql);

      const result = await retentionJob(DAYS, () => NOW).run!(ctx);

      assert.deepEqual(result, { cutoff: CUTOFF, deletedExecutions: 3, deletedAlerts: 0, batches: 1 });
      assert.deepEqual(toStoredResult(result), result);
      assert.deepEqual(ctx.lines, [`deleted 3 executions and 0 alerts older than ${CUTOFF}`]);
    }),
});

Deno.test({
  name: "with JOB_RETENTION_DAYS=0 the retention job deletes nothing and says why",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJobWithYoungRuns(sql, "digest");
      await makeRuns(sql, "digest", 3, "2000-01-01T00:00:00Z");
      await makeAlert(sql, { jobId: "digest", createdAt: "2000-01-01T00:00:00Z", deliveries: ["sent"] });
      const job = declaredJobs({ examples: false, retentionDays: 0 }).find((job) =>
        job.id === RETENTION_JOB_ID
      )!;

      assert.deepEqual(await job.run!(makeJobContext(sql)), { skipped: "JOB_RETENTION_DAYS=0" });
      assert.equal(await countExecutions(sql, "digest"), 5);
      assert.equal((await sql`SELECT 1 FROM alerts`).length, 1);
      await assert.rejects(
        () => pruneExecutions(sql, { now: NOW, retentionDays: 0 }),
        { name: "RangeError", message: /retentionDays must be a whole number of days from 1, got 0/ },
      );
    }),
});

Deno.test("the retention job is declared nightly even with the examples off, and is not critical", () => {
  const [job] = declaredJobs({ examples: false, retentionDays: 90 });
  assert.equal(job.id, "jobwatch-retention");
  assert.equal(job.displayName, "History Retention");
  assert.equal(job.schedule.expression, "cron(15 3 * * ? *)");
  assert.equal(job.timezone, "UTC");
  assert.equal(job.timeoutSeconds, 3600);
  assert.equal(job.critical, false);
  assert.equal(job.external, false);
  assert.match(job.description!, /older than 90 days/);
});
