/**
 * A scheduler instance as its own process, for multi-instance and crash
 * tests on PostgreSQL. It reads commands on stdin ("tick <ISO time>") and
 * answers one JSON line per command; the test process owns the clock.
 *
 * JOBWATCH_TEST_JOBS=minutely: three quick per-minute jobs.
 * JOBWATCH_TEST_JOBS=sleeper: one per-minute job that never finishes and
 * prints `started <execution id>` when it begins.
 * JOBWATCH_TEST_JOBS=crashy: one per-minute job that logs, waits 0-100 ms
 * and completes, for killing the process at a random point of a run's
 * life; the process prints `ready` once it can take commands.
 */
import { connectPostgres } from "../../lib/db/mod.ts";
import { EventBus } from "../../lib/events.ts";
import { createRegistry, defineJob, type Job } from "../../lib/jobs/define.ts";
import { Runner } from "../../lib/jobs/runner.ts";
import { tick } from "../../lib/jobs/scheduler.ts";
import { createMemoryLogger } from "../../lib/log.ts";

export function testJobs(mode: string): Job[] {
  if (mode === "sleeper") {
    return [defineJob({
      id: "sleeper",
      displayName: "Sleeper",
      schedule: "* * * * *",
      timeoutSeconds: 60,
      run: (ctx) => {
        console.log(`started ${ctx.executionId}`);
        return new Promise(() => {});
      },
    })];
  }
  if (mode === "crashy") {
    return [defineJob({
      id: "crashy",
      displayName: "Crashy",
      schedule: "* * * * *",
      timeoutSeconds: 30,
      run: async ({ log, signal }) => {
        log.info("working");
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
        signal.throwIfAborted();
        return { done: true };
      },
    })];
  }
  return ["alpha", "beta", "gamma"].map((id) =>
    defineJob({ id, displayName: id, schedule: "* * * * *", run: (ctx) => ({ period: ctx.periodKey }) })
  );
}

if (import.meta.main) {
  const mode = Deno.env.get("JOBWATCH_TEST_JOBS") ?? "minutely";
  const db = connectPostgres(Deno.env.get("DATABASE_URL")!, { max: 3 });
  let now = new Date(0);
  const bus = new EventBus();
  const log = createMemoryLogger();
  const instanceId = `process-${Deno.pid}`;
  const runner = new Runner({ sql: db.sql, bus, log, now: () => now, instanceId });
  const deps = {
    sql: db.sql,
    registry: createRegistry(testJobs(mode)),
    runner,
    bus,
    log,
    now: () => now,
    instanceId,
  };
  if (mode === "crashy") console.log("ready");
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const [command, argument] = buffered.slice(0, newline).trim().split(" ");
      buffered = buffered.slice(newline + 1);
      if (command === "tick") {
        now = new Date(argument);
        const report = await tick(deps);
        if (mode !== "sleeper") await runner.settle();
        console.log(JSON.stringify({ started: report.started.length, skipped: report.skipped.length }));
      }
    }
  }
  await db.close();
}
