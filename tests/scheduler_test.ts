import assert from "node:assert/strict";
import { defineJob, JobDefinitionError, toDeclaredJob } from "../lib/jobs/define.ts";
import { CATCH_UP_WINDOW_MS, MISSED_REASON, REAP_GRACE_MS } from "../lib/jobs/scheduler.ts";
import { syncJobDefinitions } from "../lib/queries/jobs.ts";
import { dbTest } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { createClock, createScheduler, HOUR, MINUTE, syncJobs } from "./helpers/scheduler.ts";

async function withDb(fn: (db: TestDatabase) => Promise<void>) {
  const db = await createTestDatabase();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

interface Row {
  id: string;
  jobId: string;
  periodKey: string;
  status: string;
  trigger: string;
  result: unknown;
  errorMessage: string | null;
  metadata: Record<string, unknown> | null;
  startedAt: Date;
}

async function executions(db: TestDatabase): Promise<Row[]> {
  return await db.sql<Row[]>`
    SELECT id, job_id, period_key, status, trigger, result, error_message, metadata, started_at
    FROM job_executions ORDER BY started_at, period_key
  `;
}

const everyMinute = (overrides: Partial<Parameters<typeof defineJob>[0]> = {}) =>
  defineJob(
    {
      id: "ping",
      displayName: "Ping",
      schedule: "* * * * *",
      run: () => ({ pong: true }),
      ...overrides,
    } as Parameters<typeof defineJob>[0],
  );

Deno.test({
  name: "a due job runs once per period, and its result is recorded with an event per state change",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute();
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      assert.deepEqual((await scheduler.tickAndSettle()).started, [], "a new job starts from now");
      clock.advance(MINUTE);
      const report = await scheduler.tickAndSettle();
      assert.equal(report.started.length, 1);
      await scheduler.tickAndSettle();
      const rows = await executions(db);
      assert.equal(rows.length, 1, "a second tick in the same minute adds nothing");
      assert.equal(rows[0].status, "completed");
      assert.equal(rows[0].trigger, "scheduled");
      assert.deepEqual(rows[0].result, { pong: true });
      assert.equal(rows[0].periodKey, job.schedule.periodKey(clock.now));
      assert.deepEqual(scheduler.events.map((e) => e.status), ["running", "completed"]);
    }),
});

Deno.test({
  name: "a job declared shortly before its occurrence runs at that occurrence, even before any tick",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock("2027-03-01T00:00:30Z");
      const job = everyMinute();
      await syncJobs(db.sql, [job], clock); // deployed at 00:00:30
      const scheduler = createScheduler(db.sql, [job], clock);
      clock.advance(30_000); // the first tick comes at 00:01:00
      const report = await scheduler.tickAndSettle();
      assert.equal(report.started.length, 1, "the 00:01 occurrence runs");
      assert.equal(report.skipped.length, 0, "nothing before the declaration counts as missed");
      const rows = await executions(db);
      assert.deepEqual(rows.map((r) => [r.periodKey, r.status]), [
        [job.schedule.periodKey(new Date("2027-03-01T00:01:00Z")), "completed"],
      ]);
    }),
});

Deno.test({
  name: "a job back from retirement starts from now: its retired stretch is not recorded as missed",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ schedule: "rate(5 minutes)" });
      await syncJobs(db.sql, [job], clock);
      await createScheduler(db.sql, [job], clock).tickAndSettle();
      await syncJobs(db.sql, [], clock); // retired
      clock.advance(3 * HOUR + 2 * MINUTE);
      await syncJobs(db.sql, [job], clock); // back at 03:02
      clock.advance(3 * MINUTE);
      const report = await createScheduler(db.sql, [job], clock).tickAndSettle();
      assert.equal(report.skipped.length, 0);
      assert.equal(report.started.length, 1, "03:05 runs");
      assert.deepEqual((await executions(db)).map((r) => [r.periodKey, r.status]), [
        [job.schedule.periodKey(new Date("2027-03-01T03:05:00Z")), "completed"],
      ]);
    }),
});

Deno.test({
  name: "three instances ticking the same clock run every (job, period) exactly once",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const ran: string[] = [];
      const jobs = ["a", "b", "c"].map((id) =>
        defineJob({
          id,
          displayName: id,
          schedule: "* * * * *",
          run: (ctx) => void ran.push(`${id} ${ctx.periodKey}`),
        })
      );
      await syncJobs(db.sql, jobs, clock);
      const instances = [1, 2, 3].map((n) => createScheduler(db.sql, jobs, clock, `instance-${n}`));
      await instances[0].tick();
      for (let minute = 0; minute < 30; minute++) {
        clock.advance(MINUTE);
        await Promise.all(instances.map((i) => i.tickAndSettle()));
      }
      const rows = await executions(db);
      assert.equal(rows.length, 3 * 30, "none missing");
      assert.equal(new Set(rows.map((r) => `${r.jobId} ${r.periodKey}`)).size, 90, "none doubled");
      assert.equal(ran.length, 90, "each handler ran once per period");
      assert.ok(rows.every((r) => r.status === "completed"));
    }),
});

Deno.test({
  name: "after downtime the latest missed occurrence runs late and older ones are recorded as skipped",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ id: "five", schedule: "rate(5 minutes)" });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      await scheduler.tickAndSettle();
      clock.advance(22 * MINUTE); // down for 22 minutes: occurrences at :05, :10, :15, :20
      const report = await scheduler.tickAndSettle();
      assert.equal(report.started.length, 1);
      assert.equal(report.skipped.length, 3);
      const rows = await executions(db);
      assert.deepEqual(rows.map((r) => r.status), ["skipped", "skipped", "skipped", "completed"]);
      assert.deepEqual(rows.slice(0, 3).map((r) => r.metadata?.reason), Array(3).fill(MISSED_REASON));
      assert.equal(rows[3].periodKey, job.schedule.periodKey(new Date("2027-03-01T00:20:00Z")));
    }),
});

Deno.test({
  name: "an occurrence missed by more than the catch-up window is skipped, not run",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ id: "daily", schedule: "cron(0 1 * * ? *)" });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      await scheduler.tickAndSettle();
      clock.advance(HOUR + CATCH_UP_WINDOW_MS + MINUTE);
      await scheduler.tickAndSettle();
      const rows = await executions(db);
      assert.deepEqual(rows.map((r) => r.status), ["skipped"]);
    }),
});

Deno.test({
  name: "with concurrency 'skip', an occurrence due while the previous run is still running is skipped",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      let release!: () => void;
      const held = new Promise<void>((resolve) => release = resolve);
      const job = everyMinute({ id: "slow", run: () => held.then(() => "done") });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      await scheduler.tick();
      clock.advance(MINUTE);
      await scheduler.tick();
      clock.advance(MINUTE);
      await scheduler.tick();
      release();
      await scheduler.deps.runner.settle();
      const rows = await executions(db);
      assert.deepEqual(rows.map((r) => r.status), ["completed", "skipped"]);
      assert.equal(rows[1].metadata?.reason, "overlap: the previous run was still running");
    }),
});

Deno.test({
  name: "a disabled job records nothing, and resumes from now when enabled again",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ enabled: false });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      for (let i = 0; i < 5; i++) {
        clock.advance(MINUTE);
        await scheduler.tickAndSettle();
      }
      assert.equal((await executions(db)).length, 0);
      await db.sql`UPDATE job_definitions SET enabled = true, scheduled_through = ${clock.now}`;
      clock.advance(MINUTE);
      await scheduler.tickAndSettle();
      assert.deepEqual(
        (await executions(db)).map((r) => r.status),
        ["completed"],
        "no backlog of 'missed' runs",
      );
    }),
});

Deno.test({
  name: "a handler that throws is failed with its message, and its stack kept in metadata",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({
        run: () => {
          throw new Error("SMTP connection refused");
        },
      });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      await scheduler.tickAndSettle();
      clock.advance(MINUTE);
      await scheduler.tickAndSettle();
      const [row] = await executions(db);
      assert.equal(row.status, "failed");
      assert.equal(row.errorMessage, "SMTP connection refused");
      assert.match(String(row.metadata?.stack), /SMTP connection refused/);
    }),
});

Deno.test({
  name: "a result that is not JSON (BigInt, a cycle) fails the run with the reason instead of crashing",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const jobs = [
        everyMinute({ id: "bigint", run: () => ({ count: 10n }) }),
        everyMinute({ id: "cycle", run: () => cycle }),
        everyMinute({ id: "nothing", run: () => undefined }),
      ];
      await syncJobs(db.sql, jobs, clock);
      const scheduler = createScheduler(db.sql, jobs, clock);
      await scheduler.tickAndSettle();
      clock.advance(MINUTE);
      await scheduler.tickAndSettle();
      const byJob = Object.fromEntries((await executions(db)).map((r) => [r.jobId, r]));
      assert.equal(byJob.bigint.status, "failed");
      assert.match(byJob.bigint.errorMessage!, /^the result is not JSON: .*BigInt/);
      assert.equal(byJob.cycle.status, "failed");
      assert.match(byJob.cycle.errorMessage!, /^the result is not JSON: .*circular/i);
      assert.equal(byJob.nothing.status, "completed");
      assert.equal(byJob.nothing.result, null);
    }),
});

Deno.test({
  name:
    "a run past its timeout is failed even if the handler ignores the signal, and its late return changes nothing",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      let aborted = false;
      let finishLate!: () => void;
      const late = new Promise<void>((resolve) => finishLate = resolve);
      const job = everyMinute({
        timeoutSeconds: 1,
        run: async (ctx) => {
          ctx.signal.addEventListener("abort", () => aborted = true);
          await late; // ignores the signal
          return { finished: "late" };
        },
      });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      await scheduler.tickAndSettle();
      clock.advance(MINUTE);
      await scheduler.tickAndSettle(); // waits for the 1 s timeout
      const [row] = await executions(db);
      assert.equal(row.status, "failed");
      assert.equal(row.errorMessage, "timed out after 1 s");
      assert.ok(aborted, "the handler's signal was aborted");
      finishLate();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await executions(db))[0].status, "failed");
    }),
});

Deno.test({
  name: "a run left running by a dead process is reaped as lost after its timeout plus grace",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ timeoutSeconds: 60, schedule: "cron(0 5 * * ? *)" });
      await syncJobs(db.sql, [job], clock);
      await db.sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at)
        VALUES ('ping', 'orphan', 'x', 'running', ${clock.now})
      `;
      const scheduler = createScheduler(db.sql, [job], clock);
      clock.advance(60_000 + REAP_GRACE_MS - 1000);
      assert.deepEqual((await scheduler.tick()).reaped, []);
      clock.advance(2000);
      assert.equal((await scheduler.tick()).reaped.length, 1);
      const [row] = await executions(db);
      assert.equal(row.status, "failed");
      assert.equal(row.errorMessage, "lost: no completion reported");
      assert.deepEqual(scheduler.events.map((e) => e.status), ["failed"]);
    }),
});

Deno.test({
  name:
    "syncing the registry inserts, updates and retires definitions, but never overrides the admin's toggle",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const a = everyMinute({ id: "a", displayName: "A" });
      const b = everyMinute({ id: "b", displayName: "B" });
      assert.deepEqual(await syncJobs(db.sql, [a, b], clock), {
        inserted: ["a", "b"],
        updated: [],
        retired: [],
      });
      assert.deepEqual(await syncJobs(db.sql, [a, b], clock), { inserted: [], updated: [], retired: [] });
      await db.sql`UPDATE job_definitions SET enabled = false WHERE id = 'a'`;
      const renamed = everyMinute({ id: "a", displayName: "A renamed", enabled: true });
      assert.deepEqual(await syncJobs(db.sql, [renamed], clock), {
        inserted: [],
        updated: ["a"],
        retired: ["b"],
      });
      const rows = await db.sql<
        { id: string; displayName: string; enabled: boolean; retiredAt: Date | null }[]
      >`
        SELECT id, display_name, enabled, retired_at FROM job_definitions ORDER BY id
      `;
      assert.deepEqual(rows.map((r) => [r.id, r.displayName, r.enabled, r.retiredAt !== null]), [
        ["a", "A renamed", false, false],
        ["b", "B", true, true],
      ]);
      assert.deepEqual(await syncJobs(db.sql, [renamed, b], clock), {
        inserted: [],
        updated: ["b"],
        retired: [],
      });
    }),
});

Deno.test({
  name: "syncing with retireMissing false adds and updates the given jobs and retires none of the others",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const a = everyMinute({ id: "a", displayName: "A" });
      const b = everyMinute({ id: "b", displayName: "B" });
      await syncJobs(db.sql, [a], clock);
      const renamed = everyMinute({ id: "a", displayName: "A renamed" });
      assert.deepEqual(
        await syncJobDefinitions(db.sql, [b, renamed].map(toDeclaredJob), clock.now, {
          retireMissing: false,
        }),
        { inserted: ["b"], updated: ["a"], retired: [] },
      );
      assert.deepEqual(
        await syncJobDefinitions(db.sql, [toDeclaredJob(b)], clock.now, { retireMissing: false }),
        { inserted: [], updated: [], retired: [] },
      );
      const rows = await db.sql<{ id: string; displayName: string; retiredAt: Date | null }[]>`
        SELECT id, display_name, retired_at FROM job_definitions ORDER BY id
      `;
      assert.deepEqual(rows.map((r) => [r.id, r.displayName, r.retiredAt]), [
        ["a", "A renamed", null],
        ["b", "B", null],
      ]);
    }),
});

Deno.test("a bad job definition names the job and the field", () => {
  const bad = (options: Record<string, unknown>) => () =>
    defineJob(
      { id: "digest", displayName: "Digest", schedule: "rate(1 hour)", run: () => {}, ...options } as never,
    );
  assert.throws(bad({ schedule: "cron(0 9 ? * MOX *)" }), (error: Error) => {
    assert.ok(error instanceof JobDefinitionError);
    assert.match(error.message, /^job "digest": schedule: .*MOX/);
    return true;
  });
  assert.throws(bad({ timezone: "Mars/Olympus" }), /job "digest": schedule: .*Mars\/Olympus/);
  assert.throws(bad({ id: "Weekly Digest" }), /job "Weekly Digest": id:/);
  assert.throws(bad({ timeoutSeconds: 0 }), /job "digest": timeoutSeconds:/);
  assert.throws(bad({ run: undefined }), /job "digest": run:/);
  assert.throws(bad({ concurrency: "queue" }), /job "digest": concurrency:/);
});

Deno.test({
  name: "an error, log or result containing NUL is still recorded (NUL replaced), not left running",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const jobs = [
        everyMinute({
          id: "nul-error",
          run: (ctx) => {
            ctx.log.info("bad\u0000line");
            throw new Error("bad\u0000byte");
          },
        }),
        everyMinute({ id: "nul-result", run: () => ({ "k\u0000": "v\u0000" }) }),
      ];
      await syncJobs(db.sql, jobs, clock);
      const scheduler = createScheduler(db.sql, jobs, clock);
      await scheduler.tickAndSettle();
      clock.advance(MINUTE);
      await scheduler.tickAndSettle();
      const byJob = Object.fromEntries((await executions(db)).map((r) => [r.jobId, r]));
      assert.equal(byJob["nul-error"].status, "failed");
      assert.equal(byJob["nul-error"].errorMessage, "bad\uFFFDbyte");
      assert.equal(byJob["nul-result"].status, "completed");
      assert.deepEqual(byJob["nul-result"].result, { "k\uFFFD": "v\uFFFD" });
    }),
});

Deno.test({
  name: "after a month of downtime, reaping an old run and catching up neither overflows nor stalls the tick",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ timeoutSeconds: 60 });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock);
      await scheduler.tickAndSettle();
      await db.sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at)
        VALUES ('ping', 'orphan', 'x', 'running', ${clock.now})
      `;
      clock.advance(40 * 24 * HOUR);
      const started = performance.now();
      const report = await scheduler.tickAndSettle();
      assert.ok(performance.now() - started < 30_000, "the catch-up walk is bounded");
      assert.equal(report.reaped.length, 1);
      assert.equal(report.started.length, 1);
      assert.equal(report.skipped.length, 999, "the newest 1000 occurrences are recorded; the latest runs");
      const [orphan] = await db.sql<{ durationMs: number }[]>`
        SELECT duration_ms FROM job_executions WHERE period_key = 'orphan'
      `;
      assert.equal(orphan.durationMs, (60 + REAP_GRACE_MS / 1000) * 1000, "failed as of its deadline");
    }),
});

Deno.test({
  name: "shutdown aborts running handlers and fails the ones that ignore it as interrupted",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const jobs = [
        everyMinute({
          id: "polite",
          run: (ctx) =>
            new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
        }),
        everyMinute({ id: "ignores-signal", run: () => new Promise(() => {}) }),
      ];
      await syncJobs(db.sql, jobs, clock);
      const scheduler = createScheduler(db.sql, jobs, clock);
      await scheduler.tick();
      clock.advance(MINUTE);
      await scheduler.tick();
      await scheduler.deps.runner.shutdown(200);
      const byJob = Object.fromEntries((await executions(db)).map((r) => [r.jobId, r]));
      assert.equal(byJob.polite.status, "failed");
      assert.equal(byJob.polite.errorMessage, "interrupted: shutdown");
      assert.equal(byJob["ignores-signal"].status, "failed");
      assert.equal(byJob["ignores-signal"].errorMessage, "interrupted: shutdown");
    }),
});

Deno.test({
  name: "a run's deadline is fixed when it starts: lowering the job's timeout later does not reap it early",
  ...dbTest,
  fn: () =>
    withDb(async (db) => {
      const clock = createClock();
      const job = everyMinute({ timeoutSeconds: 3600, schedule: "cron(0 5 * * ? *)" });
      await syncJobs(db.sql, [job], clock);
      await db.sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at)
        VALUES ('ping', 'long', 'x', 'running', ${clock.now})
      `;
      await db.sql`UPDATE job_definitions SET timeout_seconds = 60`;
      const scheduler = createScheduler(db.sql, [job], clock);
      clock.advance(30 * MINUTE);
      assert.deepEqual((await scheduler.tick()).reaped, [], "still within the hour it started with");
      clock.advance(31 * MINUTE + REAP_GRACE_MS);
      assert.equal((await scheduler.tick()).reaped.length, 1);
    }),
});
