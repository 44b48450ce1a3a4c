/**
 * A scheduler instance on a test database with an injected clock: several
 * of them on one database behave like several app processes.
 */
import type { AlertHooks } from "../../lib/alerts/record.ts";
import type { Sql } from "../../lib/db/mod.ts";
import { EventBus, type ExecutionEvent } from "../../lib/events.ts";
import { createRegistry, type Job, toDeclaredJob } from "../../lib/jobs/define.ts";
import { Runner } from "../../lib/jobs/runner.ts";
import { type SchedulerDeps, tick } from "../../lib/jobs/scheduler.ts";
import { createMemoryLogger } from "../../lib/log.ts";
import { syncJobDefinitions } from "../../lib/queries/jobs.ts";

export interface TestClock {
  now: Date;
  advance(ms: number): void;
}

export function createClock(start = "2027-03-01T00:00:00Z"): TestClock {
  const clock = {
    now: new Date(start),
    advance(ms: number) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
  return clock;
}

export interface TestScheduler {
  deps: SchedulerDeps;
  events: ExecutionEvent[];
  tick(): ReturnType<typeof tick>;
  /** Ticks and waits for every handler that tick started. */
  tickAndSettle(): ReturnType<typeof tick>;
}

export function createScheduler(
  sql: Sql,
  jobs: Job[],
  clock: TestClock,
  name = "test",
  alerts?: AlertHooks,
): TestScheduler {
  const bus = new EventBus();
  const events: ExecutionEvent[] = [];
  bus.on((event) => events.push(event));
  const log = createMemoryLogger();
  const now = () => clock.now;
  const instanceId = `${name}-${crypto.randomUUID().slice(0, 6)}`;
  const runner = new Runner({ sql, bus, log, now, instanceId, alerts });
  const deps: SchedulerDeps = {
    sql,
    registry: createRegistry(jobs),
    runner,
    bus,
    log,
    now,
    instanceId,
    alerts,
  };
  return {
    deps,
    events,
    tick: () => tick(deps),
    async tickAndSettle() {
      const report = await tick(deps);
      await runner.settle();
      return report;
    },
  };
}

export async function syncJobs(sql: Sql, jobs: Job[], clock: TestClock) {
  return await syncJobDefinitions(sql, jobs.map(toDeclaredJob), clock.now);
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
