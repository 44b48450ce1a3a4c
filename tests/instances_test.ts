/**
 * Several scheduler processes on one PostgreSQL, and a process killed with
 * SIGKILL in the middle of a run. PostgreSQL only: the embedded database is
 * single-process by design.
 */
import assert from "node:assert/strict";
import { tick } from "../lib/jobs/scheduler.ts";
import { REAP_GRACE_MS } from "../lib/jobs/scheduler.ts";
import { connectPostgres } from "../lib/db/mod.ts";
import { dbTest } from "./helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { exitWithin, readBefore } from "./helpers/process.ts";
import { testJobs } from "./helpers/instance_process.ts";
import { createClock, createScheduler, MINUTE, syncJobs } from "./helpers/scheduler.ts";

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
