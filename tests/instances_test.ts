/**
 * Several scheduler processes on one PostgreSQL, and a process killed with
 * SIGKILL in the middle of a run. PostgreSQL only: the embedded database is
 * single-process by design.
 */
import assert from "node:assert/strict";
import { tick } from "../lib/jobs/scheduler.ts";
import { REAP_GRACE_MS } from "../lib/jobs/scheduler.ts";
import { connectPostgres, type Sql } from "../lib/db/mod.ts";
import { relayNotifications } from "../lib/events.ts";
import { createTestApp, dbTest, makeUser } from "./helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { exitWithin, readBefore } from "./helpers/process.ts";
import { dayJobs, testJobs } from "./helpers/instance_process.ts";
import { createClock, createScheduler, MINUTE, syncJobs } from "./helpers/scheduler.ts";

/** Waits (up to 5 s) until no other session of this database is running a query or holding a transaction. */
async function settledBackends(sql: Sql): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const [{ busy }] = await sql<{ busy: number }[]>`
      SELECT count(*)::int AS busy FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
    `;
    if (busy === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

class InstanceProcess {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";

  constructor(databaseUrl: string, mode: string) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./helpers/instance_process.ts", import.meta.url).pathname],
      env: { DATABASE_URL: databaseUrl, JOBWATCH_TEST_JOBS: mode, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#reader = this.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  send(line: string): Promise<void> {
    return this.#writer.write(new TextEncoder().encode(`${line}\n`));
  }

  async readLine(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#buffered.includes("\n")) {
      const next = await readBefore(this.#reader, deadline);
      if (next === "timeout") throw new Error("no answer from the instance process");
      if (next.done) throw new Error(`the instance process ended; it printed: ${this.#buffered}`);
      this.#buffered += next.value;
    }
    const newline = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, newline);
    this.#buffered = this.#buffered.slice(newline + 1);
    return line;
  }

  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    await exitWithin(this.child);
  }
}

Deno.test({
  name: "three processes on one PostgreSQL run each job once per period for an hour of minutes",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const clock = createClock();
    await syncJobs(db.sql, testJobs("minutely"), clock);
    await db.sql`UPDATE job_definitions SET scheduled_through = ${clock.now}`;
    const processes = [1, 2, 3].map(() => new InstanceProcess(db.url!, "minutely"));
    try {
      let started = 0;
      for (let minute = 0; minute < 60; minute++) {
        clock.advance(MINUTE);
        await Promise.all(processes.map((p) => p.send(`tick ${clock.now.toISOString()}`)));
        for (const answer of await Promise.all(processes.map((p) => p.readLine()))) {
          started += JSON.parse(answer).started;
        }
      }
      const rows = await db.sql<{ jobId: string; periodKey: string; status: string }[]>`
        SELECT job_id, period_key, status FROM job_executions
      `;
      assert.equal(started, 180, "180 runs started across the three processes");
      assert.equal(rows.length, 180, "3 jobs × 60 minutes, none missing");
      assert.equal(new Set(rows.map((r) => `${r.jobId}/${r.periodKey}`)).size, 180, "none doubled");
      assert.ok(rows.every((r) => r.status === "completed"));
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await db.close();
    }
  },
});

Deno.test({
  name:
    "three instances through a simulated day with 20 jobs: each period once, each alert once, manual runs live",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const jobs = dayJobs();
    const start = new Date("2027-03-01T00:00:00Z");
    const t = await createTestApp({ jobs, now: start });
    await t.db.sql`UPDATE job_definitions SET scheduled_through = ${start}`;
    const admin = await makeUser(t.db, { role: "admin" });
    const cookie = await t.signIn(admin);
    // This process is a fourth instance with a dashboard open: it hears the others through NOTIFY.
    const stopRelay = await relayNotifications(t.db.sql, t.deps.jobs.bus, t.deps.jobs.instanceId);
    const stream = await t.app.request("/api/admin/events", { headers: { cookie } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let heard = "";
    const reading = (async () => {
      for (let next = await reader.read(); !next.done; next = await reader.read()) heard += next.value;
    })().catch(() => {});
    const seenLive = (executionId: string, status: string) =>
      heard.split("\n").some((line) =>
        line.startsWith("data: ") && line.includes(`"executionId":"${executionId}"`) &&
        line.includes(`"status":"${status}"`)
      );
    const processes = [1, 2, 3].map(() => new InstanceProcess(t.db.url!, "day"));
    const manual: string[] = [];
    try {
      const clock = createClock(start.toISOString());
      const startedBy = [0, 0, 0];
      for (let step = 1; step <= 288; step++) {
        clock.advance(5 * MINUTE);
        const at = clock.now.toISOString();
        await Promise.all(processes.map((p) => p.send(`tick ${at}`)));
        const answers = await Promise.all(processes.map((p) => p.readLine()));
        answers.forEach((answer, i) => startedBy[i] += JSON.parse(answer).started);
        // At 09:00, 13:00 and 17:00 an admin presses Run now on one instance; the dashboard here shows it.
        if ([9, 13, 17].includes(step / 12)) {
          const instance = processes[manual.length];
          await instance.send(`trigger every15-2 ${at} ${admin.user.id}`);
          const { executionId } = JSON.parse(await instance.readLine());
          manual.push(executionId);
          const deadline = Date.now() + 5000;
          while (!seenLive(executionId, "completed") && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          assert.ok(seenLive(executionId, "running"), `run ${manual.length} was not shown running`);
          assert.ok(seenLive(executionId, "completed"), `run ${manual.length} was not shown completed`);
        }
      }

      // Each job ran exactly once per period of the day, whichever instance won it.
      const rows = await t.db.sql<{ jobId: string; trigger: string; status: string; periods: number }[]>`
        SELECT job_id, trigger, status, count(*)::int AS periods FROM job_executions
        GROUP BY job_id, trigger, status ORDER BY job_id, trigger, status
      `;
      const end = clock.now;
      const expected = jobs.map((job) => {
        const schedule = job.schedule;
        let count = 0;
        for (let at = schedule.next(start); at && at <= end; at = schedule.next(at)) count++;
        return { jobId: job.id, count };
      });
      for (const { jobId, count } of expected) {
        const scheduled = rows.filter((r) => r.jobId === jobId && r.trigger === "scheduled");
        assert.equal(scheduled.reduce((sum, r) => sum + r.periods, 0), count, `${jobId}'s scheduled runs`);
        assert.deepEqual(scheduled.filter((r) => !["completed", "failed"].includes(r.status)), [], jobId);
      }
      const total = expected.reduce((sum, { count }) => sum + count, 0);
      assert.equal(
        startedBy[0] + startedBy[1] + startedBy[2],
        total,
        "each period was started by one instance",
      );
      assert.ok(
        startedBy.every((count) => count > 0),
        `the instances raced: ${startedBy.join(", ")} runs each`,
      );
      const [{ distinct }] = await t.db.sql<{ distinct: number }[]>`
        SELECT count(DISTINCT (job_id, period_key))::int AS distinct FROM job_executions
      `;
      assert.equal(distinct, total + manual.length, "no period has two runs");
      assert.deepEqual(
        rows.filter((r) => r.trigger === "manual"),
        [{ jobId: "every15-2", trigger: "manual", status: "completed", periods: 3 }],
      );

      // Each alert-worthy event raised exactly one alert: failures 1, 3, 6, 9, 12 in a row, and recovery.
      const alerts = await t.db.sql<{ jobId: string; kind: string; count: number }[]>`
        SELECT job_id, kind, count(*)::int AS count FROM alerts GROUP BY job_id, kind ORDER BY job_id, kind
      `;
      assert.deepEqual([...alerts], [
        { jobId: "every15-1", kind: "failure", count: 5 },
        { jobId: "every15-1", kind: "recovery", count: 1 },
        { jobId: "every5-1", kind: "failure", count: 5 },
        { jobId: "every5-1", kind: "recovery", count: 1 },
        { jobId: "hourly-1", kind: "failure", count: 1 },
        { jobId: "hourly-1", kind: "recovery", count: 1 },
      ]);
      const [{ doubled }] = await t.db.sql<{ doubled: number }[]>`
        SELECT count(*)::int AS doubled FROM (
          SELECT 1 FROM alerts GROUP BY execution_id, kind HAVING count(*) > 1
        ) d
      `;
      assert.equal(doubled, 0, "no run raised the same alert twice");
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await reader.cancel().catch(() => {});
      await reading;
      await stopRelay();
      await t.close();
    }
  },
});

Deno.test({
  name: "after kill -9 in the middle of a run, the run is reaped as failed and the next period still runs",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const clock = createClock();
    const [sleeper] = testJobs("sleeper");
    await syncJobs(db.sql, [sleeper], clock);
    await db.sql`UPDATE job_definitions SET scheduled_through = ${clock.now}`;
    const victim = new InstanceProcess(db.url!, "sleeper");
    let lostId: string;
    try {
      clock.advance(MINUTE);
      await victim.send(`tick ${clock.now.toISOString()}`);
      const lines = [await victim.readLine(), await victim.readLine()];
      lostId = lines.find((l) => l.startsWith("started "))!.slice("started ".length);
      assert.ok(lostId, lines.join("\n"));
    } finally {
      await victim.stop("SIGKILL");
    }

    // A surviving instance, whose handler for the same job finishes at once.
    const survivor = createScheduler(db.sql, [], clock);
    const quick = { ...sleeper, run: () => ({ ok: true }) };
    survivor.deps.registry.set(sleeper.id, quick);
    clock.advance(sleeper.timeoutSeconds * 1000 + REAP_GRACE_MS + 1000);
    const report = await tick(survivor.deps);
    await survivor.deps.runner.settle();
    assert.deepEqual(report.reaped, [lostId!]);
    const rows = await db.sql<{ id: string; status: string; errorMessage: string | null }[]>`
      SELECT id, status, error_message FROM job_executions ORDER BY started_at
    `;
    assert.equal(rows[0].id, lostId!);
    assert.equal(rows[0].status, "failed");
    assert.equal(rows[0].errorMessage, "lost: no completion reported");
    assert.equal(rows.at(-1)!.status, "completed", "the next period ran");
    assert.equal(rows.filter((r) => r.status === "running").length, 0, "nothing left running");
    await db.close();
  },
});

Deno.test({
  name: "kill -9 at 20 points of a run's life: every run ends final, none is doubled, the next period runs",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const clock = createClock();
    const [crashy] = testJobs("crashy");
    await syncJobs(db.sql, [crashy], clock);
    await db.sql`UPDATE job_definitions SET scheduled_through = ${clock.now}`;
    const survivor = createScheduler(db.sql, [], clock);
    survivor.deps.registry.set(crashy.id, { ...crashy, run: () => ({ survivor: true }) });
    /** What the killed process had written of its run when it died. */
    const atDeath: string[] = [];
    try {
      for (let trial = 0; trial < 20; trial++) {
        const victim = new InstanceProcess(db.url!, "crashy");
        try {
          assert.equal(await victim.readLine(), "ready");
          clock.advance(MINUTE);
          const period = clock.now.toISOString();
          await victim.send(`tick ${period}`);
          // Spread over a run's life: before its row is written, while it runs, while it is recorded, after.
          await new Promise((resolve) => setTimeout(resolve, trial * 8 + Math.random() * 8));
        } finally {
          await victim.stop("SIGKILL");
        }
        // A COMMIT the instance wrote just before it died may still be in its socket: wait until the
        // database has finished (or rolled back) every transaction it left, as minutes would in production.
        await settledBackends(db.sql);
        const [last] = await db.sql<{ status: string }[]>`
          SELECT status FROM job_executions WHERE started_at >= ${clock.now} ORDER BY started_at DESC LIMIT 1
        `;
        atDeath.push(last?.status ?? "no row");

        // Another instance ticks once the dead one's run is past its timeout and the reap grace.
        clock.advance(crashy.timeoutSeconds * 1000 + REAP_GRACE_MS + 1000);
        await survivor.tickAndSettle();
        const rows = await db.sql<{ periodKey: string; status: string; result: unknown }[]>`
          SELECT period_key, status, result FROM job_executions ORDER BY started_at
        `;
        const where = `trial ${trial} (killed with its run: ${atDeath.at(-1)})`;
        assert.deepEqual(rows.filter((r) => r.status === "running"), [], `${where}: a run is left running`);
        assert.equal(new Set(rows.map((r) => r.periodKey)).size, rows.length, `${where}: a period ran twice`);
        assert.deepEqual(
          rows.at(-1),
          { ...rows.at(-1), status: "completed", result: { survivor: true } },
          where,
        );
      }
      // The points did land at different moments of the run's life.
      assert.ok(new Set(atDeath).size >= 2, `every kill found the run ${atDeath[0]}`);
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "a tick waits for a concurrent Run now of a 'skip' job and then records the occurrence as skipped",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const other = connectPostgres(db.url!, { max: 1 });
    const clock = createClock();
    const [job] = testJobs("minutely");
    await syncJobs(db.sql, [job], clock);
    await db.sql`UPDATE job_definitions SET scheduled_through = ${clock.now}`;
    const scheduler = createScheduler(db.sql, [job], clock);
    try {
      let tickDone = false;
      const { tick } = await other.sql.begin(async (tx) => {
        // What triggerJob does: the job's lock, then the running check and the insert.
        await tx`SELECT pg_advisory_xact_lock(hashtext(${job.id}))`;
        clock.advance(MINUTE);
        const tick = scheduler.tick().then((report) => {
          tickDone = true;
          return report;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(tickDone, false, "the tick waits for the lock");
        await tx`
          INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at)
          VALUES (${job.id}, 'manual:test', 'm', 'running', 'manual', ${clock.now})
        `;
        return { tick }; // not awaited here: the transaction must commit first
      });
      const report = await tick;
      assert.equal(report.started.length, 0);
      assert.equal(report.skipped.length, 1);
      const [row] = await db.sql<{ metadata: { reason: string } }[]>`
        SELECT metadata FROM job_executions WHERE trigger = 'scheduled'
      `;
      assert.equal(row.metadata.reason, "overlap: the previous run was still running");
    } finally {
      await scheduler.deps.runner.settle();
      await other.close();
      await db.close();
    }
  },
});
