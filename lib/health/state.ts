/**
 * A job's health for uptime monitors, as a pure function of a few facts.
 *
 * - failing: its latest finished run failed;
 * - late: it missed its window: no run started by the first occurrence of its
 *   schedule after its last start (or after watching began), plus grace. The
 *   same rule raises the overdue alert (lib/jobs/lateness.ts); a run in
 *   progress is never late, and a job's maxAgeHours only adds slack;
 * - new: not late, and it never succeeded yet (e.g. its first run is not due);
 * - ok: not late, and it has succeeded;
 * - disabled: an admin turned it off (healthy: nobody expects it to run).
 *
 * The reported maxAgeHours is the job's own when set, otherwise derived from
 * its schedule: the longest gap between consecutive occurrences plus grace
 * (10 % of that gap, at least 5 minutes), DST nights included.
 */
import { assessLateness, graceMs } from "../jobs/lateness.ts";
import { longestGapMs, type Schedule } from "../jobs/schedule.ts";

export type HealthState = "ok" | "new" | "late" | "failing" | "disabled";

export const HOUR_MS = 3_600_000;

export interface JobHealthFacts {
  id: string;
  enabled: boolean;
  /** Null when the stored schedule cannot be read (a job from newer code). */
  schedule: Schedule | null;
  maxAgeHours: number | null;
  /** When watching began: the job's creation, or when it was last enabled or rescheduled. */
  watchFrom: Date;
  /** Starts of the latest completed and failed runs, and of the newest running one. */
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  runningSince: Date | null;
}

/** One job in the /health/jobs body (the seed's fields, plus state). */
export interface JobHealth {
  id: string;
  healthy: boolean;
  state: HealthState;
  lastSuccessAt: string | null;
  /** Hours since the last success started, to 0.1; null when it never succeeded. */
  lastRunHoursAgo: number | null;
  /** To 0.01; null when there is none (no maxAgeHours and a schedule with fewer than two occurrences). */
  maxAgeHours: number | null;
}

/** The derived max age of a schedule: its longest gap plus grace; null when it has fewer than two occurrences. */
export function derivedMaxAgeMs(schedule: Schedule, now: Date): number | null {
  const gap = longestGapMs(schedule, now);
  return Number.isFinite(gap) ? gap + graceMs(gap) : null;
}

/** A job's state and body fields at `now`; `derivedMaxAge` is its schedule's (for the reported field). */
export function jobHealth(facts: JobHealthFacts, derivedMaxAge: number | null, now: Date): JobHealth {
  const age = facts.lastSuccessAt ? now.getTime() - facts.lastSuccessAt.getTime() : null;
  const maxAgeMs = facts.maxAgeHours !== null ? facts.maxAgeHours * HOUR_MS : derivedMaxAge;
  const state = healthState(facts, now);
  return {
    id: facts.id,
    healthy: state === "ok" || state === "new" || state === "disabled",
    state,
    lastSuccessAt: facts.lastSuccessAt?.toISOString() ?? null,
    lastRunHoursAgo: age === null ? null : Math.round(age / HOUR_MS * 10) / 10,
    maxAgeHours: maxAgeMs === null ? null : Math.round(maxAgeMs / HOUR_MS * 100) / 100,
  };
}

function later(a: Date | null, b: Date | null): Date | null {
  return a === null ? b : b === null || a > b ? a : b;
}

function healthState(facts: JobHealthFacts, now: Date): HealthState {
  if (!facts.enabled) return "disabled";
  const { lastSuccessAt, lastFailureAt, runningSince } = facts;
  if (lastFailureAt !== null && (lastSuccessAt === null || lastFailureAt > lastSuccessAt)) return "failing";
  const lastStartedAt = later(later(lastSuccessAt, lastFailureAt), runningSince);
  const slackMs = facts.maxAgeHours === null ? null : facts.maxAgeHours * HOUR_MS;
  let late: boolean;
  if (facts.schedule) {
    late = assessLateness({
      schedule: facts.schedule,
      maxAgeMs: slackMs,
      lastStartedAt,
      watchFrom: facts.watchFrom,
      running: runningSince !== null,
      now,
    }).late;
  } else {
    // A schedule only newer code understands: judged by maxAgeHours alone, when there is one.
    const reference = later(lastStartedAt, facts.watchFrom)!;
    late = slackMs !== null && runningSince === null && now.getTime() > reference.getTime() + slackMs;
  }
  if (late) return "late";
  return lastSuccessAt === null ? "new" : "ok";
}
