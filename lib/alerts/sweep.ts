/**
 * The alerts the clock owes, checked on every scheduler tick: a job that
 * missed its expected start (overdue), one that started again (back on
 * schedule), and reminders for jobs that stay failing. One query reads every
 * job; only a job whose state changes is locked and written, and the
 * decision is taken again under the lock, so several instances sweeping at
 * once raise each alert once.
 */
import type { Sql } from "../db/mod.ts";
import type { Job } from "../jobs/define.ts";
import { assessLateness } from "../jobs/lateness.ts";
import { getLatestFailure, listWatchedJobs, lockAlertStates, saveAlertState } from "../queries/alerts.ts";
import { type ClockFacts, decideOnClock, readAlertPolicy, stateChanged } from "./policy.ts";
import { type AlertHooks, insertAlerts, isSnoozed } from "./record.ts";

export interface SweepDeps {
  sql: Sql;
  /** The jobs declared in this instance's code (a job it does not know is left to the instances that do). */
  registry: Map<string, Job>;
  alerts: AlertHooks;
  now: Date;
}

/** A job whose alert state the clock changes, as read; the change is decided again under the job's lock. */
export interface ClockChange {
  jobId: string;
  facts: ClockFacts;
}

/** Raises the overdue, back-on-schedule and reminder alerts due at `now`; returns how many it raised. */
export async function sweepAlerts(deps: SweepDeps): Promise<number> {
  return await raiseClockAlerts(deps, await findClockChanges(deps));
}

/**
 * The read half of the sweep, which writes nothing: one query over every
 * job, and the jobs whose alert state the clock changes at `now`.
 */
export async function findClockChanges(deps: SweepDeps): Promise<ClockChange[]> {
  const { sql, registry, now } = deps;
  const changes: ClockChange[] = [];
  for (const watched of await listWatchedJobs(sql)) {
    const job = registry.get(watched.jobId);
    if (!job) continue;
    const policy = readAlertPolicy(watched.alertPolicy);
    const lateness = assessLateness({
      schedule: job.schedule,
      maxAgeMs: watched.maxAgeHours === null ? null : watched.maxAgeHours * 3_600_000,
      lastStartedAt: watched.lastStartedAt,
      watchFrom: watched.watchFrom,
      running: watched.running,
      now,
    });
    const facts: ClockFacts = {
      now,
      snoozed: isSnoozed(watched, now),
      late: lateness.late,
      expectedBy: lateness.expectedBy,
      lastStartedAt: watched.lastStartedAt,
      latestFailure: null,
    };
    const preview = decideOnClock(watched.state, facts, policy);
    if (stateChanged(watched.state, preview.state)) changes.push({ jobId: watched.jobId, facts });
  }
  return changes;
}

/**
 * The write half: for each job `findClockChanges` picked, locks its alert
 * state, decides again on what it finds there and, if the state still
 * changes, saves it and raises the alerts. Returns how many it raised.
 */
export async function raiseClockAlerts(deps: SweepDeps, changes: ClockChange[]): Promise<number> {
  const { sql, now } = deps;
  let raised = 0;
  let queued = 0;
  for (const { jobId, facts } of changes) {
    const counts = await sql.begin(async (tx) => {
      const locked = (await lockAlertStates(tx, [jobId])).get(jobId);
      if (!locked) return { raised: 0, queued: 0 };
      const lockedPolicy = readAlertPolicy(locked.alertPolicy);
      facts.snoozed = isSnoozed(locked, now);
      if (locked.state.consecutiveFailures > 0) {
        facts.latestFailure = await getLatestFailure(tx, jobId);
      }
      // Another instance may have got here first: decide again on the locked state.
      const decision = decideOnClock(locked.state, facts, lockedPolicy);
      if (!stateChanged(locked.state, decision.state)) return { raised: 0, queued: 0 };
      await saveAlertState(tx, jobId, decision.state, now);
      return {
        raised: decision.alerts.length,
        queued: await insertAlerts(tx, locked, decision.alerts, deps.alerts.routing, now),
      };
    });
    raised += counts.raised;
    queued += counts.queued;
  }
  if (queued > 0) deps.alerts.queued();
  return raised;
}
