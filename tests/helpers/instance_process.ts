/**
 * A scheduler instance as its own process, for multi-instance and crash
 * tests on PostgreSQL. It reads commands on stdin ("tick <ISO time>") and
 * answers one JSON line per command; the test process owns the clock.
 *
 * JOBWATCH_TEST_JOBS=minutely: three quick per-minute jobs.
 * JOBWATCH_TEST_JOBS=sleeper: one per-minute job that never finishes and
 * prints `started <execution id>` when it begins.
 * JOBWATCH_TEST_JOBS=day: the 20 jobs of `dayJobs` (three fail at set hours),
 * with events sent to other instances through NOTIFY, and one more command:
 * "trigger <job id> <ISO time> <user id>" starts a manual run, waits for it
 * and answers `{ "executionId": … }`.
 * JOBWATCH_TEST_JOBS=crashy: one per-minute job that logs, waits 0-100 ms
 * and completes, for killing the process at a random point of a run's
 * life; the process prints `ready` once it can take commands.
 */
import { connectPostgres } from "../../lib/db/mod.ts";
import { EventBus, forwardNotifications } from "../../lib/events.ts";
import { createRegistry, defineJob, type Job } from "../../lib/jobs/define.ts";
import { Runner } from "../../lib/jobs/runner.ts";
import { triggerJob } from "../../lib/jobs/trigger.ts";
import { tick } from "../../lib/jobs/scheduler.ts";
import { createMemoryLogger } from "../../lib/log.ts";

/** The hour (UTC) of a run's period, read from its key ("2027-03-01T10:05Z"). */
const periodHour = (periodKey: string) => Number(/T(\d{2}):/.exec(periodKey)?.[1]);

/**
 * Twenty jobs on schedules from every 5 minutes to daily. Three fail at set
 * hours of the day, so a day raises a known set of alerts: every5-1 fails
 * from 10:00 to 10:55 (12 in a row), every15-1 from 03:00 to 05:45 (12 in a
 * row), hourly-1 at 20:00 (1), and each recovers at the next run.
 */
export function dayJobs(): Job[] {
  const failingHours: Record<string, number[]> = {
    "every5-1": [10],
    "every15-1": [3, 4, 5],
    "hourly-1": [20],
  };
  const schedules: [string, string, number][] = [
    ["every5", "*/5 * * * *", 6],
    ["every15", "*/15 * * * *", 6],
    ["hourly", "0 * * * *", 4],
    ["two-hourly", "rate(2 hours)", 2],
    ["daily", "30 6 * * *", 1],
    ["evening", "cron(0 18 * * ? *)", 1],
  ];
  return schedules.flatMap(([prefix, schedule, count]) =>
    Array.from({ length: count }, (_, i) => {
      const id = `${prefix}-${i + 1}`;
      return defineJob({
        id,
        displayName: id,
        schedule,
        run: ({ periodKey, trigger }) => {
          if (trigger === "scheduled" && failingHours[id]?.includes(periodHour(periodKey))) {
            throw new Error(`${id} failed at ${periodKey}`);
          }
          return { periodKey };
        },
      });
    })
  );
}

export function testJobs(mode: string): Job[] {
  if (mode === "day") return dayJobs();
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
  if (mode === "crashy") {
    // Connected and warmed up first, so the kill points after a tick fall in the run, not in start-up.
    await db.sql`SELECT 1`;
    console.log("ready");
  }
  if (mode === "day") forwardNotifications(db.sql, bus, instanceId, log);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const [command, ...args] = buffered.slice(0, newline).trim().split(" ");
      buffered = buffered.slice(newline + 1);
      if (command === "tick") {
        now = new Date(args[0]);
        const report = await tick(deps);
        if (mode !== "sleeper") await runner.settle();
        console.log(JSON.stringify({ started: report.started.length, skipped: report.skipped.length }));
      } else if (command === "trigger") {
        const [jobId, at, userId] = args;
        now = new Date(at);
        const executionId = await triggerJob(deps, jobId, {
          id: userId,
          email: "ada@example.com",
          role: "admin",
        });
        await runner.settle();
        console.log(JSON.stringify({ executionId }));
      }
    }
  }
  await db.close();
}
