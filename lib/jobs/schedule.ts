/**
 * The one schedule parser: AWS EventBridge `cron(…)` and `rate(…)`, and standard five-field cron, read in
 * an IANA time zone. Pure logic: no I/O, no clock. Occurrences come from croner; this module validates
 * every field itself (so errors name the field), translates AWS syntax to croner's, and adds `rate(…)`.
 *
 * Daylight saving time, for cron schedules (croner's Vixie-cron rules):
 * - Fixed-time schedules (no `*` and no step in minute and hour, e.g. `30 2 * * *`, `0 9,17 * * *`): a time
 *   in the spring-forward gap runs once, at the first valid instant after the gap (02:30 → 03:00 in New
 *   York on 2027-03-14); a time repeated at fall-back runs once, at its first occurrence (01:30 EDT).
 * - Interval schedules (`*` or a step in minute or hour, e.g. hourly, every 15 minutes): follow real
 *   time. Times in the gap do not exist and are skipped; the repeated hour runs twice (so an hourly job
 *   runs 23 and 25 times on the change days).
 * - `rate(…)` ignores the zone: occurrences are multiples of the period since 1970-01-01T00:00Z.
 *
 * periodKey: cron → local minute with its UTC offset and the zone, `2027-03-08T09:00-05:00 America/New_York`
 * (the offset keeps fall-back's two 01:00s apart); rate → UTC start of the period, `2027-03-08T09:00Z`.
 *
 * Five-field cron uses 0-6 (and 7) for SUN-SAT. When both day-of-month and day-of-week are restricted
 * (neither is exactly `*`), a day matching either fires, as in Vixie cron. AWS cron needs `?` in exactly one
 * of them and uses 1-7 for SUN-SAT. Both accept `L`, `LW`, `15W` (day-of-month) and `MON#1`, `FRIL`
 * (day-of-week). Nothing more frequent than once a minute is accepted.
 */
import { Cron } from "croner";
import { describeCron, describeRate } from "./schedule_describe.ts";
import { zoneTime } from "./zone_time.ts";

export interface Schedule {
  expression: string;
  timezone: string;
  kind: "cron" | "rate";
  /** The first occurrence strictly after `after`, or null if there is none. */
  next(after: Date): Date | null;
  /** The last occurrence strictly before `before`, or null if there is none. */
  previous(before: Date): Date | null;
  /** Plain English, e.g. "Every Monday at 09:00 America/New_York". */
  describe(): string;
  /** The key of the period an occurrence starts; the same on every instance (format above). */
  periodKey(occurrence: Date): string;
}

/** A schedule or zone that cannot be used; the message starts with the field, e.g. `minute: …`. */
export class ScheduleError extends Error {
  override name = "ScheduleError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

export type DayOfMonth =
  | { kind: "every" }
  | { kind: "days"; days: number[] }
  | { kind: "last" }
  | { kind: "lastWeekday" }
  | { kind: "nearestWeekday"; day: number };

/** Days of the week are 0-6 = SUN-SAT here, whatever the dialect. */
export type DayOfWeek =
  | { kind: "every" }
  | { kind: "days"; days: number[] }
  | { kind: "nth"; day: number; nth: number }
  | { kind: "last"; day: number };

/** A parsed cron expression; value lists are sorted and expanded. */
export interface CronFields {
  dialect: "aws" | "unix";
  minute: number[];
  hour: number[];
  /** Whether minute or hour has `*` or a step: the DST rules above differ for such schedules. */
  interval: boolean;
  dayOfMonth: DayOfMonth;
  month: number[];
  dayOfWeek: DayOfWeek;
  /** null: every year. */
  year: number[] | null;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const RATE_UNITS = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: DAY_MS } as const;
const TOO_FREQUENT = "anything more frequent than once a minute is refused";

/** Parses a schedule read in `timezone`; throws `ScheduleError` naming the bad field. */
export function parseSchedule(expression: string, timezone: string): Schedule {
  const text = typeof expression === "string" ? expression.trim() : "";
  if (text === "") {
    throw new ScheduleError(
      "expression",
      'is empty; write cron(…), rate(…) or five-field cron such as "0 9 * * 1"',
    );
  }
  const wrapped = /^(cron|rate)\s*\(([^()]*)\)$/i.exec(text);
  if (!wrapped && /^(cron|rate)\b/i.test(text)) {
    throw new ScheduleError(
      "expression",
      `"${text}" is malformed; write e.g. cron(0 9 ? * MON *) or rate(5 minutes)`,
    );
  }
  const kind = wrapped?.[1].toLowerCase();
  const fields = kind === "rate"
    ? null
    : parseCronFields(wrapped ? wrapped[2] : text, wrapped ? "aws" : "unix");
  const rate = kind === "rate" ? parseRate(wrapped![2]) : null;
  checkTimezone(timezone);
  return rate ? rateSchedule(expression, timezone, rate) : cronSchedule(expression, timezone, fields!);
}

/**
 * The longest time between consecutive occurrences, over the occurrences from `from` to `horizonDays`
 * later (each with the one after it). Infinity when there are fewer than two. The health check derives a
 * job's default max age from it: a weekly job 7 days, `rate(1 hour)` 1 h, a daily job up to 25 h (DST).
 */
export function longestGapMs(schedule: Schedule, from: Date, horizonDays = 400): number {
  const end = from.getTime() + horizonDays * DAY_MS;
  let occurrence = schedule.next(new Date(from.getTime() - 1));
  if (schedule.kind === "rate") {
    const following = occurrence && schedule.next(occurrence);
    return following ? following.getTime() - occurrence!.getTime() : Infinity;
  }
  const timesOfDay = minutesOfDay.get(schedule);
  let longest = -Infinity;
  while (occurrence && occurrence.getTime() < end) {
    // On a day without a UTC-offset change every time of day occurs once, so the rest of the day is known.
    const day = timesOfDay ? restOfRegularDay(occurrence, timesOfDay, schedule.timezone, end) : null;
    if (day) longest = Math.max(longest, day.longest);
    const last = day?.last ?? occurrence;
    if (last.getTime() >= end) break;
    const following = schedule.next(last);
    if (following) longest = Math.max(longest, following.getTime() - last.getTime());
    occurrence = following;
  }
  return longest === -Infinity ? Infinity : longest;
}

/** Each cron schedule's times of day, in minutes since midnight, for `longestGapMs`. */
const minutesOfDay = new WeakMap<Schedule, number[]>();

function cronSchedule(expression: string, timezone: string, fields: CronFields): Schedule {
  const cron = new Cron(cronerPattern(fields), {
    timezone,
    paused: true,
    mode: "7-part",
    domAndDow: fields.dialect === "aws",
    fixedTimeRule: fields.interval ? "single-value" : "no-wildcard",
  });
  const schedule: Schedule = {
    expression,
    timezone,
    kind: "cron",
    next: rememberNext((after) => cron.nextRun(after)),
    previous: (before) => cron.previousRuns(1, checkDate(before))[0] ?? null,
    describe: () => describeCron(fields, timezone) ?? `${expression.trim()} in ${timezone}`,
    periodKey: (occurrence) => {
      const local = localTime(checkDate(occurrence), timezone);
      return `${local.text}${formatOffset(local.offsetMinutes)} ${timezone}`;
    },
  };
  minutesOfDay.set(
    schedule,
    fields.hour.flatMap((hour) => fields.minute.map((minute) => hour * 60 + minute)),
  );
  return schedule;
}

/** How many answers a cron schedule's `next()` remembers (see `rememberNext`). */
const REMEMBERED_GAPS = 4;

/**
 * `next()` with a memory: each answer says that [after, next) holds no occurrence, so any instant in that
 * span has the same answer. croner takes tens of microseconds a call, and every minute the scheduler asks
 * each job for the next occurrence after a cursor that moved one minute, and the alert sweep asks again
 * from the job's last start; those fall in a remembered span until an occurrence is passed.
 */
function rememberNext(compute: (after: Date) => Date | null): (after: Date) => Date | null {
  const gaps: { after: number; next: number | null }[] = [];
  let oldest = 0;
  return (after) => {
    const at = checkDate(after).getTime();
    for (const gap of gaps) {
      if (at >= gap.after && (gap.next === null || at < gap.next)) {
        return gap.next === null ? null : new Date(gap.next);
      }
    }
    const next = compute(after);
    const gap = { after: at, next: next?.getTime() ?? null };
    if (gaps.length < REMEMBERED_GAPS) {
      gaps.push(gap);
    } else {
      gaps[oldest] = gap;
      oldest = (oldest + 1) % REMEMBERED_GAPS;
    }
    return next;
  };
}

/** croner's 7-part pattern (seconds first); AWS day-of-week numbers are already 0-6 here. */
function cronerPattern(fields: CronFields): string {
  const dom = fields.dayOfMonth;
  const dow = fields.dayOfWeek;
  const dayOfMonth = dom.kind === "every"
    ? "*"
    : dom.kind === "days"
    ? dom.days.join(",")
    : dom.kind === "last"
    ? "L"
    : dom.kind === "lastWeekday"
    ? "LW"
    : `${dom.day}W`;
  const dayOfWeek = dow.kind === "every"
    ? "*"
    : dow.kind === "days"
    ? dow.days.join(",")
    : `${dow.day}#${dow.kind === "nth" ? dow.nth : "L"}`;
  const list = (values: number[]) => values.join(",");
  const year = fields.year ? list(fields.year) : "*";
  return `0 ${list(fields.minute)} ${list(fields.hour)} ${dayOfMonth} ${
    list(fields.month)
  } ${dayOfWeek} ${year}`;
}

function rateSchedule(expression: string, timezone: string, rate: ParsedRate): Schedule {
  const periodMs = rate.value * RATE_UNITS[rate.unit];
  const at = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms) : null);
  return {
    expression,
    timezone,
    kind: "rate",
    next: (after) => at((Math.floor(checkDate(after).getTime() / periodMs) + 1) * periodMs),
    previous: (before) => at((Math.ceil(checkDate(before).getTime() / periodMs) - 1) * periodMs),
    describe: () => describeRate(rate.value, rate.unit),
    periodKey: (occurrence) => {
      const start = Math.floor(checkDate(occurrence).getTime() / periodMs) * periodMs;
      return `${new Date(start).toISOString().slice(0, 16)}Z`;
    },
  };
}

interface ParsedRate {
  value: number;
  unit: keyof typeof RATE_UNITS;
}

function parseRate(inner: string): ParsedRate {
  const match = /^(\S+)\s+([a-z]+)$/i.exec(inner.trim());
  if (!match) {
    throw new ScheduleError(
      "rate",
      `write rate(value unit), e.g. rate(5 minutes); got rate(${inner.trim()})`,
    );
  }
  const [, valueText, unitText] = match;
  const word = unitText.toLowerCase();
  const unit = word.endsWith("s") ? word.slice(0, -1) : word;
  if (unit === "second") throw new ScheduleError("rate", `${TOO_FREQUENT} (got rate(${inner.trim()}))`);
  if (!(unit in RATE_UNITS)) {
    throw new ScheduleError("rate", `"${unitText}" is not a unit; use minute(s), hour(s) or day(s)`);
  }
  if (!/^\d{1,6}$/.test(valueText)) {
    throw new ScheduleError("rate", `"${valueText}" is not a whole number of ${unit}s from 1 to 999999`);
  }
  const value = Number(valueText);
  if (value === 0) throw new ScheduleError("rate", `${TOO_FREQUENT} (got rate(${inner.trim()}))`);
  if (value === 1 && word !== unit) {
    throw new ScheduleError("rate", `a value of 1 takes the singular: rate(1 ${unit})`);
  }
  if (value !== 1 && word === unit) {
    throw new ScheduleError("rate", `a value other than 1 takes the plural: rate(${value} ${unit}s)`);
  }
  return { value, unit: unit as ParsedRate["unit"] };
}

interface FieldSpec {
  field: string;
  min: number;
  max: number;
  names?: string[];
  /** The number of the first name, e.g. 1 for JAN. */
  nameBase?: number;
}

function parseCronFields(text: string, dialect: "aws" | "unix"): CronFields {
  const parts = text.trim().split(/\s+/).filter((part) => part !== "");
  const expected = dialect === "aws" ? 6 : 5;
  if (parts.length !== expected) {
    const layout = "minute hour day-of-month month day-of-week";
    if (dialect === "aws") {
      const extra = parts.length === 7 ? `; a seventh field would be seconds, and ${TOO_FREQUENT}` : "";
      throw new ScheduleError(
        "expression",
        `cron(…) takes 6 fields (${layout} year), got ${parts.length}${extra}`,
      );
    }
    const hint = parts.length === 6 && parts.includes("?")
      ? "; AWS syntax goes inside cron(…)"
      : parts.length > 5
      ? `; a sixth field would be seconds, and ${TOO_FREQUENT}`
      : "";
    throw new ScheduleError(
      "expression",
      `five-field cron takes ${layout}, got ${parts.length} fields${hint}`,
    );
  }
  const [minuteText, hourText, domText, monthText, dowText, yearText] = parts;
  const misplaced = ["minute", "hour", "", "month", "", "year"].find((field, i) =>
    field && parts[i]?.includes("?")
  );
  if (misplaced) throw new ScheduleError(misplaced, '"?" is only for day-of-month and day-of-week');
  if (dialect === "unix" && (domText === "?" || dowText === "?")) {
    throw new ScheduleError(
      domText === "?" ? "day-of-month" : "day-of-week",
      '"?" belongs in cron(…); use "*"',
    );
  }
  if (dialect === "aws" && (domText === "?") === (dowText === "?")) {
    const got = domText === "?" ? "both are" : `got "${domText}" and "${dowText}"`;
    throw new ScheduleError(
      "day-of-month/day-of-week",
      `cron(…) needs "?" in exactly one of them, as in cron(0 9 ? * MON *); ${got}`,
    );
  }
  const minute = parseList(minuteText, { field: "minute", min: 0, max: 59 });
  const hour = parseList(hourText, { field: "hour", min: 0, max: 23 });
  const month =
    parseList(monthText, { field: "month", min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 }).values;
  const dayOfMonth = parseDayOfMonth(domText);
  const year = yearText === undefined || yearText === "*"
    ? null
    : parseList(yearText, { field: "year", min: 1970, max: 2199 }).values;
  checkDayExists(dayOfMonth, month);
  return {
    dialect,
    minute: minute.values,
    hour: hour.values,
    interval: minute.stepped || hour.stepped,
    dayOfMonth,
    month,
    dayOfWeek: parseDayOfWeek(dowText, dialect),
    year,
  };
}

function parseDayOfMonth(text: string): DayOfMonth {
  if (text === "*" || text === "?") return { kind: "every" };
  const upper = text.toUpperCase();
  if (upper === "L") return { kind: "last" };
  if (upper === "LW") return { kind: "lastWeekday" };
  if (/^\d+W$/.test(upper)) {
    return {
      kind: "nearestWeekday",
      day: parseValue(upper.slice(0, -1), { field: "day-of-month", min: 1, max: 31 }),
    };
  }
  if (/[LW]/.test(upper) && /[,\-\/]/.test(text)) {
    throw new ScheduleError("day-of-month", `"${text}": L and W stand alone, as in "L", "LW" or "15W"`);
  }
  return { kind: "days", days: parseList(text, { field: "day-of-month", min: 1, max: 31 }).values };
}

function parseDayOfWeek(text: string, dialect: "aws" | "unix"): DayOfWeek {
  if (text === "*" || text === "?") return { kind: "every" };
  // AWS numbers SUN-SAT 1-7; five-field cron 0-6, with 7 also Sunday. Either way it is 0-6 from here on.
  const spec: FieldSpec = dialect === "aws"
    ? { field: "day-of-week", min: 1, max: 7, names: DAY_NAMES, nameBase: 1 }
    : { field: "day-of-week", min: 0, max: 7, names: DAY_NAMES, nameBase: 0 };
  const toDay = (value: number) => (dialect === "aws" ? value - 1 : value % 7);
  const example = dialect === "aws" ? '"6L" for the last Friday' : '"5L" for the last Friday';
  const nth = /^(\w+?)#(\w*)$/.exec(text);
  if (nth) {
    if (!/^[1-5]$/.test(nth[2])) {
      throw new ScheduleError("day-of-week", `"${text}": the number after # must be 1 to 5`);
    }
    return { kind: "nth", day: toDay(parseValue(nth[1], spec)), nth: Number(nth[2]) };
  }
  if (/^\w+L$/i.test(text) && !/^[a-z]{3}$/i.test(text)) {
    return { kind: "last", day: toDay(parseValue(text.slice(0, -1), spec)) };
  }
  if (/^L$/i.test(text)) {
    throw new ScheduleError("day-of-week", `"L" alone is ambiguous; write e.g. ${example}`);
  }
  if (/[L#]/i.test(text) && /[,\-\/#]/.test(text)) {
    throw new ScheduleError("day-of-week", `"${text}": L and # stand alone, as in "MON#1" or ${example}`);
  }
  const days = [...new Set(parseList(text, spec).values.map(toDay))].sort((a, b) => a - b);
  return { kind: "days", days };
}

/** Expands a list of values, ranges and steps (`a`, `a-b`, `*`, each optionally `/n`; `a/n` runs to max). */
function parseList(text: string, spec: FieldSpec): { values: number[]; stepped: boolean } {
  const values = new Set<number>();
  let stepped = false;
  for (const item of text.split(",")) {
    const [base, stepText, extra] = item.split("/");
    if (item === "" || base === "" || extra !== undefined) {
      throw new ScheduleError(spec.field, `"${text}" has an empty or malformed item "${item}"`);
    }
    const size = spec.max - spec.min + 1;
    if (
      stepText !== undefined && (!/^\d+$/.test(stepText) || Number(stepText) < 1 || Number(stepText) > size)
    ) {
      throw new ScheduleError(spec.field, `the step in "${item}" must be a whole number from 1 to ${size}`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    let first: number;
    let last: number;
    if (base === "*") {
      [first, last] = [spec.min, spec.max];
    } else if (/^\w+-\w+$/.test(base)) {
      [first, last] = base.split("-").map((value) => parseValue(value, spec));
      if (first > last) {
        throw new ScheduleError(spec.field, `the range "${base}" runs backwards; list the values instead`);
      }
    } else {
      first = parseValue(base, spec);
      last = stepText === undefined ? first : spec.max;
    }
    stepped ||= base === "*" || stepText !== undefined;
    for (let value = first; value <= last; value += step) values.add(value);
  }
  return { values: [...values].sort((a, b) => a - b), stepped };
}

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      const days = spec.names === DAY_NAMES ? ` (${spec.min} = SUN)` : "";
      throw new ScheduleError(spec.field, `${value} is out of range ${spec.min}-${spec.max}${days}`);
    }
    return value;
  }
  const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) return index + spec.nameBase!;
  const kind = spec.names === DAY_NAMES ? "a day name" : spec.names ? "a month name" : "a number";
  throw new ScheduleError(spec.field, `"${text}" is not ${kind}`);
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function checkDayExists(dayOfMonth: DayOfMonth, months: number[]): void {
  const day = dayOfMonth.kind === "days"
    ? dayOfMonth.days[0]
    : dayOfMonth.kind === "nearestWeekday"
    ? dayOfMonth.day
    : 0;
  const longest = Math.max(...months.map((month) => DAYS_IN_MONTH[month - 1]));
  if (day > longest) {
    throw new ScheduleError(
      "day-of-month",
      `day ${day} never occurs in ${months.map((m) => MONTH_NAMES[m - 1]).join(",")}`,
    );
  }
}

function checkTimezone(timezone: string): void {
  // A name, not an offset such as "+02:00", which Intl would also take.
  if (
    typeof timezone !== "string" || !/^[A-Za-z][\w+\-]*(\/[\w+\-]+)*$/.test(timezone) || !isTimezone(timezone)
  ) {
    throw new ScheduleError("timezone", `"${timezone}" is not an IANA time zone (e.g. UTC, Europe/London)`);
  }
}

function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

function checkDate(date: Date): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError("expected a valid Date");
  return date;
}

/** Wall-clock time of an instant in a zone: `2027-03-08T09:00`, minutes since midnight, UTC offset. */
function localTime(instant: Date, timezone: string) {
  const local = zoneTime(instant.getTime(), timezone);
  return {
    text: `${local.date}T${local.time}`,
    minuteOfDay: local.hour * 60 + local.minute,
    offsetMinutes: Math.round(local.offsetMs / MINUTE_MS),
  };
}

function formatOffset(offsetMinutes: number): string {
  const abs = Math.abs(offsetMinutes);
  return `${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** The occurrences left on `occurrence`'s local day, if that day has one UTC offset throughout; else null. */
function restOfRegularDay(occurrence: Date, timesOfDay: number[], timezone: string, end: number) {
  const local = localTime(occurrence, timezone);
  const midnight = occurrence.getTime() - local.minuteOfDay * MINUTE_MS;
  const sameOffset = (instant: number) =>
    localTime(new Date(instant), timezone).offsetMinutes === local.offsetMinutes;
  const index = timesOfDay.indexOf(local.minuteOfDay);
  if (index < 0 || !sameOffset(midnight) || !sameOffset(midnight + DAY_MS - 1)) return null;
  let last = occurrence.getTime();
  let longest = -Infinity;
  for (const minute of timesOfDay.slice(index + 1)) {
    if (last >= end) break;
    const next = midnight + minute * MINUTE_MS;
    longest = Math.max(longest, next - last);
    last = next;
  }
  return { last: new Date(last), longest };
}
