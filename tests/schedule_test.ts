import assert from "node:assert/strict";
import { longestGapMs, parseSchedule, type Schedule, ScheduleError } from "../lib/jobs/schedule.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Occurrences in [from, to), as ISO strings. */
function occurrences(schedule: Schedule, from: string, to: string): string[] {
  const found: string[] = [];
  let occurrence = schedule.next(new Date(new Date(from).getTime() - 1));
  while (occurrence && occurrence < new Date(to)) {
    found.push(occurrence.toISOString());
    occurrence = schedule.next(occurrence);
  }
  return found;
}

function next(expression: string, timezone: string, after: string): string | null {
  return parseSchedule(expression, timezone).next(new Date(after))?.toISOString() ?? null;
}

function weekday(iso: string): string {
  return ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"][new Date(iso).getUTCDay()];
}

function scheduleError(expression: string, timezone = "UTC"): string {
  try {
    parseSchedule(expression, timezone);
  } catch (error) {
    assert.ok(error instanceof ScheduleError);
    return error.message;
  }
  assert.fail(`expected a ScheduleError for ${JSON.stringify(expression)} in ${timezone}`);
}

/** mulberry32: a small seeded PRNG, so the random checks are the same on every run. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("the seed's weekly digest runs on Mondays at 09:00 New York time", () => {
  const schedule = parseSchedule("cron(0 9 ? * MON *)", "America/New_York");
  assert.equal(schedule.kind, "cron");
  assert.equal(schedule.next(new Date("2027-03-03T12:00Z"))?.toISOString(), "2027-03-08T14:00:00.000Z");
  assert.equal(schedule.previous(new Date("2027-03-03T12:00Z"))?.toISOString(), "2027-03-01T14:00:00.000Z");
  assert.equal(schedule.describe(), "Every Monday at 09:00 America/New_York");
  assert.equal(schedule.periodKey(new Date("2027-03-08T14:00Z")), "2027-03-08T09:00-05:00 America/New_York");
});

Deno.test("the seed's hourly rate runs on the hour and keys periods by their UTC start", () => {
  const schedule = parseSchedule("rate(1 hour)", "UTC");
  assert.equal(schedule.kind, "rate");
  assert.equal(schedule.next(new Date("2027-03-03T12:34Z"))?.toISOString(), "2027-03-03T13:00:00.000Z");
  assert.equal(schedule.previous(new Date("2027-03-03T12:34Z"))?.toISOString(), "2027-03-03T12:00:00.000Z");
  assert.equal(schedule.describe(), "Every hour");
  assert.equal(schedule.periodKey(new Date("2027-03-03T13:00Z")), "2027-03-03T13:00Z");
});

Deno.test("the seed's nightly cleanup runs every day at 03:00 UTC", () => {
  const schedule = parseSchedule("cron(0 3 * * ? *)", "UTC");
  assert.equal(schedule.next(new Date("2027-03-03T03:00Z"))?.toISOString(), "2027-03-04T03:00:00.000Z");
  assert.equal(schedule.previous(new Date("2027-03-03T03:00Z"))?.toISOString(), "2027-03-02T03:00:00.000Z");
  assert.equal(schedule.describe(), "Every day at 03:00 UTC");
  assert.equal(schedule.periodKey(new Date("2027-03-04T03:00Z")), "2027-03-04T03:00+00:00 UTC");
});

Deno.test("the seed's report job runs every day at 00:05 UTC", () => {
  const schedule = parseSchedule("cron(5 0 * * ? *)", "UTC");
  assert.equal(schedule.next(new Date("2027-12-31T23:59Z"))?.toISOString(), "2028-01-01T00:05:00.000Z");
  assert.equal(schedule.previous(new Date("2028-01-01T00:04Z"))?.toISOString(), "2027-12-31T00:05:00.000Z");
  assert.equal(schedule.describe(), "Every day at 00:05 UTC");
  assert.equal(schedule.periodKey(new Date("2028-01-01T00:05Z")), "2028-01-01T00:05+00:00 UTC");
});

Deno.test("next() is strictly after and previous() strictly before the instant given", () => {
  for (const expression of ["cron(0 3 * * ? *)", "rate(1 day)", "0 3 * * *"]) {
    const schedule = parseSchedule(expression, "UTC");
    const at = new Date("2027-03-03T00:00Z");
    if (expression !== "rate(1 day)") at.setUTCHours(3);
    assert.equal(schedule.next(at)?.getTime(), at.getTime() + DAY_MS, expression);
    assert.equal(schedule.previous(at)?.getTime(), at.getTime() - DAY_MS, expression);
    assert.equal(schedule.next(new Date(at.getTime() - 1))?.getTime(), at.getTime(), expression);
    assert.equal(schedule.previous(new Date(at.getTime() + 1))?.getTime(), at.getTime(), expression);
  }
});

Deno.test("AWS day-of-week 1 is Sunday, not Monday", () => {
  const runs = occurrences(parseSchedule("cron(0 9 ? * 1 *)", "UTC"), "2027-03-01", "2027-03-29");
  assert.deepEqual(runs.map(weekday), ["SUN", "SUN", "SUN", "SUN"]);
  assert.equal(runs[0], "2027-03-07T09:00:00.000Z");
});

Deno.test("AWS day-of-week 2-6 is Monday to Friday and reads as weekdays", () => {
  const schedule = parseSchedule("cron(0 9 ? * 2-6 *)", "UTC");
  const runs = occurrences(schedule, "2027-03-01", "2027-03-08");
  assert.deepEqual(runs.map(weekday), ["MON", "TUE", "WED", "THU", "FRI"]);
  assert.deepEqual(
    runs,
    occurrences(parseSchedule("cron(0 9 ? * MON-FRI *)", "UTC"), "2027-03-01", "2027-03-08"),
  );
  assert.equal(schedule.describe(), "Every weekday at 09:00 UTC");
});

Deno.test("day and month names work in any case, in lists and in ranges", () => {
  const runs = occurrences(parseSchedule("cron(0 9 ? jan,Jul mon-wed *)", "UTC"), "2027-01-01", "2027-12-31");
  assert.ok(runs.every((run) => ["MON", "TUE", "WED"].includes(weekday(run))));
  assert.deepEqual([...new Set(runs.map((run) => run.slice(5, 7)))], ["01", "07"]);
  assert.equal(next("0 9 * FEB sat", "UTC", "2027-01-01"), "2027-02-06T09:00:00.000Z");
});

Deno.test("L in day-of-month is the last day of each month, leap years included", () => {
  const runs = occurrences(parseSchedule("cron(0 9 L * ? *)", "UTC"), "2027-12-01", "2028-03-01");
  assert.deepEqual(runs, [
    "2027-12-31T09:00:00.000Z",
    "2028-01-31T09:00:00.000Z",
    "2028-02-29T09:00:00.000Z",
  ]);
  assert.equal(
    parseSchedule("cron(0 9 L * ? *)", "UTC").describe(),
    "On the last day of every month at 09:00 UTC",
  );
});

Deno.test("5L in AWS day-of-week is the last Thursday of the month", () => {
  const runs = occurrences(parseSchedule("cron(0 9 ? * 5L *)", "UTC"), "2027-03-01", "2027-06-01");
  assert.deepEqual(runs, [
    "2027-03-25T09:00:00.000Z",
    "2027-04-29T09:00:00.000Z",
    "2027-05-27T09:00:00.000Z",
  ]);
  assert.equal(
    parseSchedule("cron(0 9 ? * FRIL *)", "UTC").describe(),
    "On the last Friday of every month at 09:00 UTC",
  );
});

Deno.test("15W runs on the weekday nearest the 15th, and 1W never leaves its month", () => {
  // 2027-05-15 is a Saturday (so Friday the 14th); 2027-08-15 a Sunday (so Monday the 16th).
  const nearest = occurrences(parseSchedule("cron(0 9 15W * ? *)", "UTC"), "2027-05-01", "2027-09-01");
  assert.deepEqual(nearest.map((run) => run.slice(0, 10)), [
    "2027-05-14",
    "2027-06-15",
    "2027-07-15",
    "2027-08-16",
  ]);
  // 2027-05-01 is a Saturday: the nearest weekday in May is Monday the 3rd, not Friday 30 April.
  assert.equal(next("cron(0 9 1W * ? *)", "UTC", "2027-04-02"), "2027-05-03T09:00:00.000Z");
});

Deno.test("LW runs on the last weekday of the month", () => {
  // 2027-07-31 is a Saturday and 2027-10-31 a Sunday.
  const runs = occurrences(parseSchedule("cron(0 9 LW * ? *)", "UTC"), "2027-07-01", "2027-11-01");
  assert.deepEqual(runs.map((run) => run.slice(0, 10)), [
    "2027-07-30",
    "2027-08-31",
    "2027-09-30",
    "2027-10-29",
  ]);
  assert.equal(
    parseSchedule("cron(0 9 LW * ? *)", "UTC").describe(),
    "On the last weekday of every month at 09:00 UTC",
  );
});

Deno.test("2#1 in AWS numbering is the first Monday of the month", () => {
  const schedule = parseSchedule("cron(0 9 ? * 2#1 *)", "UTC");
  const runs = occurrences(schedule, "2027-01-01", "2027-04-01");
  assert.deepEqual(runs.map((run) => run.slice(0, 10)), ["2027-01-04", "2027-02-01", "2027-03-01"]);
  assert.deepEqual(
    runs,
    occurrences(parseSchedule("cron(0 9 ? * MON#1 *)", "UTC"), "2027-01-01", "2027-04-01"),
  );
  assert.equal(schedule.describe(), "On the first Monday of every month at 09:00 UTC");
});

Deno.test("the year field limits the schedule, and once its years are past next() is null", () => {
  const schedule = parseSchedule("cron(0 9 1 1 ? 2028,2030)", "UTC");
  assert.deepEqual(occurrences(schedule, "2027-01-01", "2035-01-01"), [
    "2028-01-01T09:00:00.000Z",
    "2030-01-01T09:00:00.000Z",
  ]);
  assert.equal(schedule.next(new Date("2030-01-01T09:00Z")), null);
  assert.equal(schedule.previous(new Date("2028-01-01T09:00Z")), null);
  assert.equal(next("cron(0 9 * * ? 2020-2022)", "UTC", "2027-01-01"), null);
  assert.equal(
    parseSchedule("cron(0 9 * * ? 2027-2029)", "UTC").describe(),
    "Every day from 2027 to 2029 at 09:00 UTC",
  );
});

Deno.test("five-field cron numbers days 0-6 from Sunday and takes 7 as Sunday too", () => {
  assert.equal(weekday(next("0 9 * * 0", "UTC", "2027-03-01")!), "SUN");
  assert.equal(weekday(next("0 9 * * 7", "UTC", "2027-03-01")!), "SUN");
  assert.equal(weekday(next("0 9 * * 1", "UTC", "2027-03-02")!), "MON");
  const weekdays = occurrences(parseSchedule("30 8 * * 1-5", "Europe/Paris"), "2027-03-01", "2027-03-08");
  assert.deepEqual(weekdays.map(weekday), ["MON", "TUE", "WED", "THU", "FRI"]);
  assert.equal(weekdays[0], "2027-03-01T07:30:00.000Z");
  assert.equal(parseSchedule("*/15 * * * *", "UTC").describe(), "Every 15 minutes");
});

Deno.test("five-field cron fires when either a restricted day-of-month or day-of-week matches", () => {
  // The 1st of March 2027 is a Monday; the Mondays and the 1st of April (a Thursday) all fire.
  const runs = occurrences(parseSchedule("0 9 1 * MON", "UTC"), "2027-03-01", "2027-04-06");
  assert.deepEqual(runs.map((run) => run.slice(0, 10)), [
    "2027-03-01",
    "2027-03-08",
    "2027-03-15",
    "2027-03-22",
    "2027-03-29",
    "2027-04-01",
    "2027-04-05",
  ]);
  // With day-of-week `*`, only the day of the month counts.
  assert.deepEqual(occurrences(parseSchedule("0 9 1 * *", "UTC"), "2027-03-02", "2027-05-02").length, 2);
});

Deno.test("rate periods are aligned to the epoch, so instances starting at different times agree", () => {
  const first = parseSchedule("rate(7 minutes)", "UTC");
  const second = parseSchedule("rate(7 minutes)", "Europe/Berlin");
  const fromFirst = occurrences(first, "2027-03-03T10:00:13Z", "2027-03-03T12:00Z");
  const fromSecond = occurrences(second, "2027-03-03T10:41:59Z", "2027-03-03T12:00Z");
  assert.deepEqual(fromFirst.slice(fromFirst.indexOf(fromSecond[0])), fromSecond);
  assert.ok(fromFirst.every((run) => new Date(run).getTime() % (7 * 60_000) === 0));
  assert.equal(
    first.periodKey(new Date("2027-03-03T11:00:30Z")),
    second.periodKey(new Date("2027-03-03T11:00:30Z")),
  );
});

Deno.test("rate(5 minutes) runs at :00, :05, :10 and so on", () => {
  const runs = occurrences(
    parseSchedule("rate(5 minutes)", "America/New_York"),
    "2027-03-03T10:02Z",
    "2027-03-03T10:21Z",
  );
  assert.deepEqual(runs.map((run) => run.slice(11, 16)), ["10:05", "10:10", "10:15", "10:20"]);
  assert.equal(parseSchedule("rate(5 minutes)", "UTC").describe(), "Every 5 minutes");
});

Deno.test("rate(1 day) runs at 00:00Z even for a job in Asia/Tokyo", () => {
  const schedule = parseSchedule("rate(1 day)", "Asia/Tokyo");
  assert.deepEqual(occurrences(schedule, "2027-03-03T05:00Z", "2027-03-05T05:00Z"), [
    "2027-03-04T00:00:00.000Z",
    "2027-03-05T00:00:00.000Z",
  ]);
  assert.equal(schedule.periodKey(new Date("2027-03-04T00:00Z")), "2027-03-04T00:00Z");
  assert.equal(schedule.describe(), "Every day at 00:00 UTC");
});

Deno.test("a daily 02:30 New York job runs once, at 03:00, on the spring-forward day", () => {
  const runs = occurrences(
    parseSchedule("cron(30 2 * * ? *)", "America/New_York"),
    "2027-03-13",
    "2027-03-16",
  );
  assert.deepEqual(runs, [
    "2027-03-13T07:30:00.000Z",
    "2027-03-14T07:00:00.000Z",
    "2027-03-15T06:30:00.000Z",
  ]);
});

Deno.test("a daily 01:30 New York job runs once, at the first 01:30, on the fall-back day", () => {
  const runs = occurrences(parseSchedule("30 1 * * *", "America/New_York"), "2027-11-06", "2027-11-09");
  assert.deepEqual(runs, [
    "2027-11-06T05:30:00.000Z",
    "2027-11-07T05:30:00.000Z",
    "2027-11-08T06:30:00.000Z",
  ]);
});

Deno.test("a daily 01:30 London job runs once on both of Europe/London's change days", () => {
  const schedule = parseSchedule("cron(30 1 * * ? *)", "Europe/London");
  // 2027-03-28: 01:00-02:00 does not exist, so it runs at 02:00 BST (01:00Z).
  const spring = occurrences(schedule, "2027-03-27", "2027-03-30");
  assert.deepEqual(spring, [
    "2027-03-27T01:30:00.000Z",
    "2027-03-28T01:00:00.000Z",
    "2027-03-29T00:30:00.000Z",
  ]);
  // 2027-10-31: 01:30 happens at 00:30Z (BST) and 01:30Z (GMT); it runs at the first.
  const autumn = occurrences(schedule, "2027-10-30", "2027-11-02");
  assert.deepEqual(autumn, [
    "2027-10-30T00:30:00.000Z",
    "2027-10-31T00:30:00.000Z",
    "2027-11-01T01:30:00.000Z",
  ]);
});

Deno.test("a weekly 09:00 New York job fires at 13:00Z in summer and 14:00Z in winter", () => {
  const schedule = parseSchedule("cron(0 9 ? * MON *)", "America/New_York");
  assert.equal(schedule.next(new Date("2027-07-01"))?.toISOString(), "2027-07-05T13:00:00.000Z");
  assert.equal(schedule.next(new Date("2027-12-01"))?.toISOString(), "2027-12-06T14:00:00.000Z");
});

Deno.test("an hourly New York job runs 23 times when clocks go forward and 25 when they go back", () => {
  const schedule = parseSchedule("cron(0 * * * ? *)", "America/New_York");
  const spring = occurrences(schedule, "2027-03-14T05:00Z", "2027-03-15T04:00Z");
  const autumn = occurrences(schedule, "2027-11-07T04:00Z", "2027-11-08T05:00Z");
  assert.equal(spring.length, 23);
  assert.equal(autumn.length, 25);
  for (const runs of [spring, autumn]) {
    const gaps = runs.slice(1).map((run, i) => new Date(run).getTime() - new Date(runs[i]).getTime());
    assert.ok(gaps.every((gap) => gap === HOUR_MS), "every real hour once");
    assert.equal(new Set(runs.map((run) => schedule.periodKey(new Date(run)))).size, runs.length);
  }
  assert.ok(
    !spring.some((run) => schedule.periodKey(new Date(run)).includes("T02:")),
    "02:00 does not exist",
  );
  assert.deepEqual(autumn.slice(1, 4).map((run) => schedule.periodKey(new Date(run))), [
    "2027-11-07T01:00-04:00 America/New_York",
    "2027-11-07T01:00-05:00 America/New_York",
    "2027-11-07T02:00-05:00 America/New_York",
  ]);
});

Deno.test("period keys are the same on every instance that parses the schedule", () => {
  const occurrence = new Date("2027-11-07T06:00Z");
  const keys = [1, 2, 3].map(() => parseSchedule("0 * * * *", "America/New_York").periodKey(occurrence));
  assert.deepEqual(keys, Array(3).fill("2027-11-07T01:00-05:00 America/New_York"));
  assert.equal(
    parseSchedule("rate(15 minutes)", "UTC").periodKey(new Date("2027-03-08T09:07:12Z")),
    "2027-03-08T09:00Z",
  );
});

Deno.test("describe() puts common schedules in plain English and falls back to the expression", () => {
  const cases: [string, string, string][] = [
    ["rate(1 minute)", "UTC", "Every minute"],
    ["rate(15 minutes)", "UTC", "Every 15 minutes"],
    ["rate(6 hours)", "UTC", "Every 6 hours"],
    ["rate(3 days)", "UTC", "Every 3 days at 00:00 UTC"],
    ["cron(0 * * * ? *)", "UTC", "Every hour"],
    ["cron(5 * * * ? *)", "UTC", "At minute 5 of every hour"],
    ["cron(0/10 * * * ? *)", "UTC", "Every 10 minutes"],
    ["0 */2 * * *", "Europe/Paris", "Every 2 hours (Europe/Paris)"],
    ["0 3 * * *", "UTC", "Every day at 03:00 UTC"],
    ["0 9,17 * * *", "UTC", "Every day at 09:00 and 17:00 UTC"],
    ["0 9 * * 1-5", "America/New_York", "Every weekday at 09:00 America/New_York"],
    ["0 9 * * 1,4", "UTC", "Every Monday and Thursday at 09:00 UTC"],
    ["0 9 1 * *", "UTC", "On day 1 of every month at 09:00 UTC"],
    ["cron(0 9 1,15 JAN,JUL ? *)", "UTC", "On days 1 and 15 of January and July at 09:00 UTC"],
    [
      "*/15 9-17 * * MON-FRI",
      "Europe/Berlin",
      "Every 15 minutes from 09:00 to 17:45 on weekdays (Europe/Berlin)",
    ],
    ["0 * * * 1", "UTC", "Every hour on Mondays (UTC)"],
    ["0 9 1 * 1", "UTC", "0 9 1 * 1 in UTC"],
    ["cron(7,19,23,41,53 * * * ? *)", "UTC", "cron(7,19,23,41,53 * * * ? *) in UTC"],
  ];
  for (const [expression, timezone, description] of cases) {
    assert.equal(parseSchedule(expression, timezone).describe(), description, expression);
  }
});

Deno.test("bad schedules are refused with a message naming the field", () => {
  const cases: [string, string, string][] = [
    ["cron(60 9 ? * MON *)", "UTC", "minute: 60 is out of range 0-59"],
    ["cron(0 24 ? * MON *)", "UTC", "hour: 24 is out of range 0-23"],
    ["cron(0 9 ? * 8 *)", "UTC", "day-of-week: 8 is out of range 1-7 (1 = SUN)"],
    ["cron(0 9 ? * MOX *)", "UTC", 'day-of-week: "MOX" is not a day name'],
    ["0 9 * JNA *", "UTC", 'month: "JNA" is not a month name'],
    ["*/0 * * * *", "UTC", 'minute: the step in "*/0" must be a whole number from 1 to 60'],
    ["rate(1 minutes)", "UTC", "rate: a value of 1 takes the singular: rate(1 minute)"],
    ["rate(2 minute)", "UTC", "rate: a value other than 1 takes the plural: rate(2 minutes)"],
    [
      "rate(30 seconds)",
      "UTC",
      "rate: anything more frequent than once a minute is refused (got rate(30 seconds))",
    ],
    [
      "rate(0 minutes)",
      "UTC",
      "rate: anything more frequent than once a minute is refused (got rate(0 minutes))",
    ],
    ["0 9 * * *", "Mars/Base", 'timezone: "Mars/Base" is not an IANA time zone (e.g. UTC, Europe/London)'],
    ["0 9 * * *", "+02:00", 'timezone: "+02:00" is not an IANA time zone (e.g. UTC, Europe/London)'],
    ["", "UTC", 'expression: is empty; write cron(…), rate(…) or five-field cron such as "0 9 * * 1"'],
    ["0 17-9 * * *", "UTC", 'hour: the range "17-9" runs backwards; list the values instead'],
    ["cron(0 9 ? * 2#6 *)", "UTC", 'day-of-week: "2#6": the number after # must be 1 to 5'],
    ["cron(0 9 ? * MON 1969)", "UTC", "year: 1969 is out of range 1970-2199"],
    ["0 9 30 2 *", "UTC", "day-of-month: day 30 never occurs in FEB"],
    ["0 9 * * ?", "UTC", 'day-of-week: "?" belongs in cron(…); use "*"'],
  ];
  for (const [expression, timezone, message] of cases) {
    assert.equal(scheduleError(expression, timezone), message);
  }
});

Deno.test("AWS cron needs ? in exactly one of day-of-month and day-of-week", () => {
  assert.match(
    scheduleError("cron(0 9 1 * MON *)"),
    /^day-of-month\/day-of-week: cron\(…\) needs "\?" in exactly one/,
  );
  assert.match(scheduleError("cron(0 9 * * * *)"), /^day-of-month\/day-of-week: .*got "\*" and "\*"$/);
  assert.match(scheduleError("cron(0 9 ? * ? *)"), /^day-of-month\/day-of-week: .*; both are$/);
});

Deno.test("a wrong number of fields, or a seconds field, is refused", () => {
  assert.equal(
    scheduleError("cron(0 9 ? * MON)"),
    "expression: cron(…) takes 6 fields (minute hour day-of-month month day-of-week year), got 5",
  );
  assert.match(
    scheduleError("cron(0 0 9 ? * MON *)"),
    /got 7; .*more frequent than once a minute is refused$/,
  );
  assert.match(
    scheduleError("*/30 * * * * *"),
    /^expression: .*got 6 fields; .*more frequent than once a minute/,
  );
  assert.match(scheduleError("0 9 ? * MON *"), /AWS syntax goes inside cron\(…\)$/);
  assert.match(scheduleError("0 9 * *"), /^expression: five-field cron takes .*, got 4 fields$/);
  assert.match(scheduleError("cron(0 9 ? * MON *"), /^expression: .* is malformed/);
});

Deno.test("previous() mirrors next() at random instants over a year, DST days included", () => {
  const random = seededRandom(20270314);
  const schedules = [
    parseSchedule("cron(0 * * * ? *)", "America/New_York"),
    parseSchedule("cron(30 2 * * ? *)", "America/New_York"),
    parseSchedule("30 1 * * *", "Europe/London"),
    parseSchedule("*/20 1-2 * * *", "America/New_York"),
    parseSchedule("cron(0 9 LW * ? *)", "Australia/Sydney"),
    parseSchedule("rate(7 minutes)", "UTC"),
  ];
  const yearStart = new Date("2027-01-01T00:00Z").getTime();
  // Half the instants fall on the two New York change days, the rest anywhere in the year.
  const changeDays = [new Date("2027-03-14T04:00Z").getTime(), new Date("2027-11-07T04:00Z").getTime()];
  for (const schedule of schedules) {
    for (let i = 0; i < 150; i++) {
      const t = i % 2 ? yearStart + random() * 365 * DAY_MS : changeDays[i % 4 >> 1] + random() * DAY_MS;
      const following = schedule.next(new Date(t))!;
      assert.ok(following.getTime() > t);
      const back = schedule.previous(new Date(following.getTime() + 1));
      assert.equal(
        back?.toISOString(),
        following.toISOString(),
        `${schedule.expression} at ${new Date(t).toISOString()}`,
      );
      const before = schedule.previous(following);
      assert.ok(before && before.getTime() <= t, `${schedule.expression}: nothing between t and next(t)`);
    }
  }
});

Deno.test("longestGapMs is 7 days weekly, 1 h for rate(1 hour) and 25 h for a daily job across DST", () => {
  const from = new Date("2027-01-01T00:00Z");
  assert.equal(longestGapMs(parseSchedule("cron(0 9 ? * MON *)", "UTC"), from), 7 * DAY_MS);
  assert.equal(longestGapMs(parseSchedule("rate(1 hour)", "UTC"), from), HOUR_MS);
  assert.equal(longestGapMs(parseSchedule("cron(0 3 * * ? *)", "America/New_York"), from), 25 * HOUR_MS);
  assert.equal(longestGapMs(parseSchedule("cron(0 3 * * ? *)", "America/New_York"), from, 60), 24 * HOUR_MS);
  assert.equal(longestGapMs(parseSchedule("* * * * *", "Europe/Paris"), from), 60_000);
  assert.equal(longestGapMs(parseSchedule("cron(0 9 1 1 ? 2027)", "UTC"), from), Infinity);
});

Deno.test("longestGapMs takes the same answer as a walk over every occurrence", () => {
  const from = new Date("2027-10-20T00:00Z");
  for (
    const [expression, timezone] of [
      ["*/15 1 * * *", "America/New_York"],
      ["0 * * * *", "Europe/London"],
      ["*/10 9-17 * * MON-FRI", "America/New_York"],
      ["cron(0,30 0-3 ? * SUN *)", "Australia/Lord_Howe"],
    ]
  ) {
    const schedule = parseSchedule(expression, timezone);
    // A plain copy of the interface: longestGapMs then walks every occurrence one by one.
    const walked: Schedule = { ...schedule };
    assert.equal(longestGapMs(schedule, from, 30), longestGapMs(walked, from, 30), expression);
  }
});

Deno.test("next() answers from memory exactly as a schedule asked for the first time, DST days included", () => {
  const random = seededRandom(20271107);
  const newYork = ["2027-03-14T04:00Z", "2027-11-07T04:00Z"];
  const berlin = ["2027-03-28T00:00Z", "2027-10-31T00:00Z"];
  const cases: [string, string, string[]][] = [
    ["cron(30 2 * * ? *)", "America/New_York", newYork],
    ["30 1 * * *", "America/New_York", newYork],
    ["*/20 1-2 * * *", "America/New_York", newYork],
    ["cron(0 * * * ? *)", "Europe/Berlin", berlin],
    ["*/10 * * * *", "Europe/Berlin", berlin],
    ["cron(0 9 1 1 ? 2027)", "UTC", ["2026-12-31T22:00Z"]],
  ];
  for (const [expression, timezone, days] of cases) {
    const remembered = parseSchedule(expression, timezone);
    for (const day of days.map((iso) => new Date(iso).getTime())) {
      // Like the scheduler's cursor, a few minutes at a time, with the sweep's fixed reference and a
      // stray question from elsewhere (a job page) in between.
      const reference = day - 3 * HOUR_MS;
      const check = (instant: number) => {
        const asked = new Date(instant);
        const answer = remembered.next(asked);
        assert.equal(
          answer?.toISOString(),
          parseSchedule(expression, timezone).next(asked)?.toISOString(),
          `${expression} ${timezone} after ${asked.toISOString()}`,
        );
        return answer?.getTime() ?? null;
      };
      for (let at = day; at < day + 26 * HOUR_MS; at += 11 * 60_000 + Math.floor(random() * 1000)) {
        const answer = check(at);
        check(reference);
        check(day + (random() - 0.5) * 400 * DAY_MS);
        // Either side of the edges of what was just remembered.
        for (const edge of [at - 1, answer === null ? at + DAY_MS : answer - 1, answer ?? at]) check(edge);
      }
    }
    remembered.next(new Date("2026-12-31T00:00Z"))?.setTime(0);
    assert.notEqual(
      remembered.next(new Date("2026-12-31T00:00Z"))?.getTime(),
      0,
      "a caller cannot change it",
    );
  }
});
