/**
 * A schedule's next runs, written for people in the job's zone and in UTC, with a warning on each run
 * that daylight saving time moves, merges, skips or repeats. Pure: no I/O, no clock.
 *
 * The warnings follow the rules in schedule.ts, but are read from the occurrences themselves rather
 * than assumed: a cron schedule is also matched against wall-clock time (parsed in UTC, where the
 * wall-clock time of an instant in the zone is read as if it were UTC), so a run can be compared with
 * the times the expression names.
 */
import { parseSchedule, type Schedule } from "./schedule.ts";
import { zoneTime } from "./zone_time.ts";

export interface NextRun {
  at: Date;
  /** In the job's zone: "Mon 2027-03-08 09:00 EST", or an offset where the zone has no abbreviation. */
  local: string;
  /** "2027-03-08 14:00 UTC". */
  utc: string;
  dst: DstWarning | null;
}

export interface DstWarning {
  /** gap: clocks go forward past a time the schedule names; overlap: the run's local time occurs twice. */
  kind: "gap" | "overlap";
  note: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** How far back to look for a clock change before a run; the longest gap between cron runs is a year. */
const LOOKBACK_MS = 400 * DAY_MS;

/**
 * The first `count` runs strictly after `from`. `rate(…)` schedules ignore the zone (they run every
 * period in real time), so their runs never carry a warning.
 */
export function nextRuns(schedule: Schedule, from: Date, count = 5): NextRun[] {
  const instants: Date[] = [];
  let at = schedule.next(from);
  while (at && instants.length < count) {
    instants.push(at);
    if (instants.length < count) at = schedule.next(at);
  }
  const zone = schedule.timezone;
  const wallClock = schedule.kind === "cron" ? parseSchedule(schedule.expression, "UTC") : null;
  return instants.map((at, i) => ({
    at,
    local: formatLocal(at, zone),
    utc: `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)} UTC`,
    dst: wallClock
      ? overlapWarning(schedule, at) ??
        gapWarning(wallClock, zone, at, i === 0 ? from : instants[i - 1])
      : null,
  }));
}

/** When the run's local time occurs twice: which one this is, and whether the schedule runs at both. */
function overlapWarning(schedule: Schedule, at: Date): DstWarning | null {
  const zone = schedule.timezone;
  const offset = offsetMs(at.getTime(), zone);
  const wall = at.getTime() + offset;
  for (const probe of [at.getTime() - 3 * HOUR_MS, at.getTime() + 3 * HOUR_MS]) {
    const otherOffset = offsetMs(probe, zone);
    const twin = wall - otherOffset;
    if (otherOffset === offset || offsetMs(twin, zone) !== otherOffset) continue;
    const change = findChange(Math.min(probe, at.getTime()), Math.max(probe, at.getTime()), zone);
    const first = Math.min(twin, at.getTime());
    const runsAtBoth = schedule.next(new Date(twin - 1))?.getTime() === twin;
    const time = hhmm(wall);
    const occurs = `${time} occurs twice on ${formatDay(wall)}: clocks go back from ${
      hhmm(change.at + change.before)
    } to ${hhmm(change.at + change.after)}`;
    const which = at.getTime() === first ? "first" : "second";
    const note = runsAtBoth
      ? `${occurs}. This schedule runs at both; this is the ${which} (${abbreviation(at.getTime(), zone)}).`
      : `${occurs}. It runs once, at the ${which} ${time} (${abbreviation(at.getTime(), zone)}).`;
    return { kind: "overlap", note };
  }
  return null;
}

/**
 * When clocks went forward since the previous run over times the schedule names: either this run is
 * one of them moved to the end of the gap, or they were skipped (interval schedules).
 */
function gapWarning(wallClock: Schedule, zone: string, at: Date, since: Date): DstWarning | null {
  let warning: DstWarning | null = null;
  for (
    const change of forwardChanges(Math.max(since.getTime(), at.getTime() - LOOKBACK_MS), at.getTime(), zone)
  ) {
    const gapStart = change.at + change.before;
    const gapEnd = change.at + change.after;
    const named: number[] = [];
    for (let t = wallClock.next(new Date(gapStart - 1)); t && t.getTime() < gapEnd; t = wallClock.next(t)) {
      named.push(t.getTime());
    }
    if (named.length === 0) continue;
    const times = listTimes(named);
    const exist = named.length === 1 ? "does not exist" : "do not exist";
    const clocks = `clocks go forward from ${hhmm(gapStart)} to ${hhmm(gapEnd)}`;
    const moved = at.getTime() === change.at && !isNamed(wallClock, gapEnd);
    const note = moved
      ? `${times} ${exist} on ${formatDay(gapStart)}: ${clocks}. It runs at ${hhmm(gapEnd)} ${
        abbreviation(at.getTime(), zone)
      } instead${named.length > 1 ? ", once" : ""}.`
      : `No run at ${times} on ${formatDay(gapStart)}: ${clocks}, so ${
        named.length === 1 ? "that time does" : "those times do"
      } not exist.`;
    warning = { kind: "gap", note };
  }
  return warning;
}

function isNamed(wallClock: Schedule, wall: number): boolean {
  return wallClock.next(new Date(wall - 1))?.getTime() === wall;
}

interface OffsetChange {
  /** The first instant with the new offset. */
  at: number;
  before: number;
  after: number;
}

/** The changes to a later UTC offset in (from, to]; days apart in practice, so one per day at most. */
function forwardChanges(from: number, to: number, zone: string): OffsetChange[] {
  const changes: OffsetChange[] = [];
  let offset = offsetMs(from, zone);
  for (let start = from; start < to; start += DAY_MS) {
    const end = Math.min(start + DAY_MS, to);
    const endOffset = offsetMs(end, zone);
    if (offset < endOffset) changes.push(findChange(start, end, zone));
    offset = endOffset;
  }
  return changes;
}

/** The offset change in (from, to], which have different offsets, by bisection to the millisecond. */
function findChange(from: number, to: number, zone: string): OffsetChange {
  const before = offsetMs(from, zone);
  let low = from;
  let high = to;
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (offsetMs(middle, zone) === before) low = middle;
    else high = middle;
  }
  return { at: high, before, after: offsetMs(high, zone) };
}

/** "02:30", "02:00 and 02:30", "02:00, 02:15, 02:30 and 02:45", "02:00, 02:01, … (60 times)". */
function listTimes(walls: number[]): string {
  const times = walls.map(hhmm);
  if (times.length === 1) return times[0];
  if (times.length <= 4) return `${times.slice(0, -1).join(", ")} and ${times[times.length - 1]}`;
  return `${times.slice(0, 2).join(", ")}, … ${times[times.length - 1]} (${times.length} times)`;
}

/** A wall-clock time held as if it were UTC, as "02:30". */
function hhmm(wall: number): string {
  return new Date(wall).toISOString().slice(11, 16);
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A wall-clock date held as if it were UTC, as "Sun 2027-03-14". */
function formatDay(wall: number): string {
  const date = new Date(wall);
  return `${WEEKDAYS[date.getUTCDay()]} ${date.toISOString().slice(0, 10)}`;
}

/** The zone's UTC offset at an instant, in milliseconds (wall-clock time minus UTC). */
function offsetMs(instant: number, zone: string): number {
  return zoneTime(instant, zone).offsetMs;
}

/** "EST", "GMT+1", "GMT+5:30": Intl's short name in English. */
function abbreviation(instant: number, zone: string): string {
  return zoneTime(instant, zone).zoneName;
}

/** "Mon 2027-03-08 09:00 EST" in the zone. */
function formatLocal(at: Date, zone: string): string {
  const local = zoneTime(at.getTime(), zone);
  return `${local.weekday} ${local.date} ${local.time} ${local.zoneName}`;
}
