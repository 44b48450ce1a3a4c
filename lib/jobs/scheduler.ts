/**
 * The tick: once a minute (Deno.cron), on every instance. For each enabled
 * job it works out the occurrences due since the last tick, inserts them
 * with ON CONFLICT (job_id, period_key) DO NOTHING, and runs the handler
 * only where this instance's insert won, so N instances run each period once.
 */
import { type AlertHooks, finishWithAlerts, UNROUTED } from "../alerts/record.ts";
import { type ClockChange, findClockChanges, raiseClockAlerts } from "../alerts/sweep.ts";
import type { Sql } from "../db/mod.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../http/context.ts";
import { type DueExecution, insertDueExecutions, reapLostExecutions } from "../queries/executions.ts";
import { advanceSchedulerCursors, listSchedulerCursors } from "../queries/jobs.ts";
import type { Job } from "./define.ts";
import { publish, type Runner } from "./runner.ts";

/** A missed occurrence younger than this still runs (late); older ones are recorded as skipped. */
export const CATCH_UP_WINDOW_MS = 60 * 60_000;
/** A run is reaped as lost this long after its timeout. */
export const REAP_GRACE_MS = 2 * 60_000;
/** At most this many missed occurrences of one job are recorded per tick (the newest ones). */
export const MAX_MISSED_PER_TICK = 1000;

export const MISSED_REASON = "missed: the scheduler was down or could not reach the database";

export interface SchedulerDeps {
  sql: Sql;
  registry: Map<string, Job>;
  runner: Runner;
  bus: EventBus;
  log: Logger;
  now: () => Date;
  instanceId: string;
  /** Where alerts go (reaped runs, overdue jobs, reminders); default: recorded, not sent. */
  alerts?: AlertHooks;
}

export interface TickReport {
  started: string[];
  skipped: string[];
  reaped: string[];
  /** Alerts raised by the clock: overdue, back on schedule, reminders. */
  alerts: number;
}

/**
 * The executions due for one job between its cursor (exclusive) and `now`
 * (inclusive). Pure: the latest occurrence runs if it is within the
 * catch-up window; every earlier one is recorded as skipped.
 */
export function planOccurrences(job: Job, from: Date | null, now: Date): DueExecution[] {
  if (from === null) return [];
  // Most jobs have nothing due in a given minute: one (usually remembered) next() says so.
  const first = job.schedule.next(from);
  if (first === null || first.getTime() > now.getTime()) return [];
  // Walk back from now: after long downtime only the newest MAX_MISSED_PER_TICK
  // occurrences are recorded, so the walk never covers the whole gap.
  const occurrences: Date[] = [];
  let cursor = job.schedule.previous(new Date(now.getTime() + 1));
  while (cursor && cursor.getTime() > from.getTime() && occurrences.length < MAX_MISSED_PER_TICK) {
    occurrences.unshift(cursor);
    cursor = job.schedule.previous(cursor);
  }
  return occurrences.map((occurrence, index) => {
    const latest = index === occurrences.length - 1;
    const runs = latest && now.getTime() - occurrence.getTime() <= CATCH_UP_WINDOW_MS;
    return {
      jobId: job.id,
      periodKey: job.schedule.periodKey(occurrence),
      startedAt: runs ? now : occurrence,
      skipReason: runs ? null : MISSED_REASON,
      skipIfRunning: job.concurrency === "skip",
    };
  });
}

/**
 * One tick: reap lost runs, record due occurrences, find the alerts the
 * clock owes (overdue jobs, reminders), start the runs this instance won,
 * then raise those alerts.
 */
export async function tick(deps: SchedulerDeps): Promise<TickReport> {
  const { sql, registry, runner, bus, instanceId } = deps;
  const now = deps.now();
  // Reaping must never stop scheduling: a failure here is logged and the tick goes on.
  const alerts = deps.alerts ?? UNROUTED;
  const reaping = finishWithAlerts(
    sql,
    alerts,
    now,
    (tx) => reapLostExecutions(tx, now, REAP_GRACE_MS),
  ).catch((error) => {
    deps.log.error("reaping lost runs failed", {
      error: error instanceof Error ? error.message : String(error),
    });
    return [];
  });
  // The cursors are read while the reaper writes: neither touches what the other does.
  const cursors = await listSchedulerCursors(sql);
  const reaped = await reaping;
  for (const changed of reaped) publish(bus, instanceId, changed);

  const due: DueExecution[] = [];
  const handled: string[] = [];
  for (const cursor of cursors) {
    const job = registry.get(cursor.id);
    if (!job) continue;
    handled.push(job.id);
    if (!cursor.enabled || job.external) continue;
    due.push(...planOccurrences(job, cursor.scheduledThrough, now));
  }
  // The runs and the cursors that say they were planned commit together: one commit, not two.
  const inserted = await sql.begin(async (tx) => {
    const rows = await insertDueExecutions(tx, due);
    await advanceSchedulerCursors(tx, handled, now);
    return rows;
  });

  // Like reaping, the alert sweep must never stop scheduling. Its read (one query over every job) comes
  // before the runs start, so it does not compete with their completions; the alerts it finds, usually
  // none, are raised after, each decided again under its job's lock.
  const sweepFailed = (error: unknown) =>
    deps.log.error("checking for overdue jobs failed", {
      error: error instanceof Error ? error.message : String(error),
    });
  const sweep = { sql, registry, alerts, now };
  const clockChanges = await findClockChanges(sweep).catch((error): ClockChange[] => {
    sweepFailed(error);
    return [];
  });

  const report: TickReport = {
    started: [],
    skipped: [],
    reaped: reaped.map((r) => r.executionId),
    alerts: 0,
  };
  for (const row of inserted) {
    publish(bus, instanceId, row);
    if (row.status !== "running") {
      report.skipped.push(row.executionId);
      continue;
    }
    report.started.push(row.executionId);
    const job = registry.get(row.jobId)!;
    runner.start(job, { executionId: row.executionId, periodKey: row.periodKey, trigger: "scheduled" });
  }
  report.alerts = await raiseClockAlerts(sweep, clockChanges).catch((error) => {
    sweepFailed(error);
    return 0;
  });
  return report;
}
