/**
 * When a job is late: it has not started within its expected time plus a
 * grace period. Pure; the overdue alert uses it (and the health check's
 * "late" state means the same thing).
 */
import type { Schedule } from "./schedule.ts";

const MINUTE_MS = 60_000;
/** How early a start may come and still count as the next occurrence's run. */
const EARLY_MS = 2 * MINUTE_MS;

/** Grace after an expected start: 10 % of the interval, at least 5 minutes. */
export function graceMs(intervalMs: number): number {
  return Math.max(5 * MINUTE_MS, Math.round(intervalMs * 0.1));
}

export interface LatenessInput {
  schedule: Schedule;
  /** The job's maxAgeHours: when set, the deadline is at least this long after the last start. */
  maxAgeMs: number | null;
  /** The last start of a run (skipped runs are not starts); null if it never started. */
  lastStartedAt: Date | null;
  /** When watching began: the job's creation, or when it was last enabled. */
  watchFrom: Date;
  /** Whether a run is in progress now (a running job is not late). */
  running: boolean;
  now: Date;
}

export interface Lateness {
  late: boolean;
  /** The deadline for the next start; null when the schedule has no further occurrence. */
  expectedBy: Date | null;
}

/**
 * A job is late when `now` is past its deadline: the first occurrence of its
 * schedule after the later of its last start and `watchFrom`, plus grace
 * (10 % of the interval to the occurrence after it, at least 5 minutes). A
 * job's maxAgeHours, when set, can only make the deadline later (last start
 * plus that age): it is the slack its owner allows, never a tighter rule.
 */
export function assessLateness(input: LatenessInput): Lateness {
  const { schedule, lastStartedAt, watchFrom, now } = input;
  const reference = lastStartedAt && lastStartedAt > watchFrom ? lastStartedAt : watchFrom;
  let expected = schedule.next(reference);
  let following = expected && schedule.next(expected);
  // A run reported a little early (clock skew) belongs to the occurrence just after it.
  if (
    expected && following && lastStartedAt && reference === lastStartedAt &&
    expected.getTime() - reference.getTime() <
      Math.min(EARLY_MS, (following.getTime() - expected.getTime()) / 2)
  ) {
    expected = following;
    following = schedule.next(expected);
  }
  let deadline = expected &&
    expected.getTime() + graceMs((following ?? expected).getTime() - expected.getTime());
  if (input.maxAgeMs !== null) {
    const byAge = reference.getTime() + input.maxAgeMs;
    deadline = deadline === null || byAge > deadline ? byAge : deadline;
  }
  const expectedBy = deadline === null ? null : new Date(deadline);
  return { late: !input.running && expectedBy !== null && now > expectedBy, expectedBy };
}
