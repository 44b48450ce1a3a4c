/**
 * Property-based checks (fast-check) of the two parsers that read text from
 * outside: schedule expressions (from code, but shown to admins) and page
 * cursors (from any URL). Each property runs on a fixed seed, so a failure is
 * reproducible and the suite is the same on every run.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Cursor, decodeCursor, encodeCursor } from "../lib/history.ts";
import { parseSchedule, ScheduleError } from "../lib/jobs/schedule.ts";
import { base64Url } from "./helpers/hostile.ts";

const SEED = 20271201;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"];

/** One cron field built from the pieces the grammar knows, valid or not. */
const cronField = fc.array(
  fc.constantFrom(
    "*",
    "?",
    "L",
    "W",
    "LW",
    "#",
    "-",
    ",",
    "/",
    "0",
    "1",
    "2",
    "5",
    "7",
    "12",
    "15",
    "31",
    "59",
    "60",
    "-1",
    "1e3",
    "99999999999999999999",
    "MON",
    "FRI",
    "SUN",
    "JAN",
    "DEC",
    "\u00a0",
  ),
  { minLength: 1, maxLength: 4 },
).map((parts) => parts.join(""));

/** Text that looks like a schedule often enough to reach every branch of the parser. */
const scheduleLike = fc.oneof(
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  {
    weight: 4,
    arbitrary: fc.array(cronField, { minLength: 5, maxLength: 5 }).map((fields) => fields.join(" ")),
  },
  {
    weight: 4,
    arbitrary: fc.array(cronField, { minLength: 5, maxLength: 7 }).map((fields) =>
      `cron(${fields.join(" ")})`
    ),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.constantFrom("*", "0", "*/5", "0-30/10", "5,35", "59"),
      fc.constantFrom("*", "2", "9", "1-5", "*/6", "0,12"),
      fc.constantFrom("*", "?", "L", "LW", "15W", "1,15", "31"),
      fc.constantFrom("*", "JAN", "2-6", "FEB", "*/3"),
      fc.constantFrom("*", "?", "MON", "MON-FRI", "FRI#2", "6L", "2,4"),
      fc.constantFrom("*", "2027", "2026-2030"),
      fc.boolean(),
    ).map(([minute, hour, dom, month, dow, year, aws]) =>
      aws
        ? `cron(${minute} ${hour} ${dom} ${month} ${dow} ${year})`
        : `${minute} ${hour} ${dom} ${month} ${dow}`
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.oneof(fc.integer({ min: -5, max: 100_000 }).map(String), fc.constantFrom("1.5", "0x10", "", "1e2")),
      fc.constantFrom("minute", "minutes", "hour", "hours", "day", "days", "seconds", "week", ""),
    ).map(([count, unit]) => `rate(${count} ${unit})`),
  },
);

const zoneLike = fc.oneof(fc.constantFrom(...ZONES, "", "Mars/Olympus", "UTC+1", "../etc"), fc.string());

/** Instants from 1970 to 2100, whole milliseconds. */
const instant = fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }).map((ms) => new Date(ms));

Deno.test("any text as a schedule either parses or throws a ScheduleError naming a field", () => {
  fc.assert(
    fc.property(scheduleLike, zoneLike, (expression, zone) => {
      let schedule;
      try {
        schedule = parseSchedule(expression, zone);
      } catch (error) {
        assert.ok(error instanceof ScheduleError, `${expression} in ${zone}: ${error}`);
        assert.match(error.message, /^[a-z/-]+: ./);
        return;
      }
      // What parses must also answer its questions without throwing.
      const from = new Date(Date.UTC(2027, 0, 1));
      const next = schedule.next(from);
      if (next) {
        assert.ok(next > from);
        assert.equal(typeof schedule.periodKey(next), "string");
      }
      assert.equal(typeof schedule.describe(), "string");
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

/** A five-field cron with chosen minutes and hours and `*` elsewhere, with the sets it stands for. */
const minuteHourCron = fc.record({
  minutes: fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 5 }),
  hours: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 4 }),
});

Deno.test("a five-field cron's next occurrence is the first matching minute after the given instant", () => {
  fc.assert(
    fc.property(minuteHourCron, instant, ({ minutes, hours }, after) => {
      const schedule = parseSchedule(`${minutes.join(",")} ${hours.join(",")} * * *`, "UTC");
      const next = schedule.next(after);
      assert.ok(next, "a daily schedule always has a next occurrence");
      assert.ok(next > after && next.getTime() - after.getTime() <= DAY_MS);
      assert.equal(next.getTime() % MINUTE_MS, 0);
      const matches = (date: Date) =>
        minutes.includes(date.getUTCMinutes()) && hours.includes(date.getUTCHours());
      assert.ok(matches(next), `${next.toISOString()} does not match`);
      // No matching minute is skipped between `after` and `next`.
      const firstMinute = Math.floor(after.getTime() / MINUTE_MS + 1) * MINUTE_MS;
      for (let ms = firstMinute; ms < next.getTime(); ms += MINUTE_MS) {
        assert.ok(!matches(new Date(ms)), `${new Date(ms).toISOString()} was skipped`);
      }
      assert.equal(schedule.previous(new Date(next.getTime() + 1))?.getTime(), next.getTime());
    }),
    { seed: SEED, numRuns: 300 },
  );
});

Deno.test("rate(N minutes) fires on the epoch-aligned boundary after the given instant", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1440 }), instant, (n, after) => {
      const unit = n === 1 ? "minute" : "minutes";
      const next = parseSchedule(`rate(${n} ${unit})`, "UTC").next(after);
      assert.ok(next);
      const period = n * MINUTE_MS;
      assert.equal(next.getTime() % period, 0);
      assert.ok(next > after && next.getTime() - after.getTime() <= period);
    }),
    { seed: SEED, numRuns: 500 },
  );
});

Deno.test("successive occurrences have distinct period keys, across DST changes too", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("0 * * * *", "30 1 * * *", "*/20 0-3 * * *", "cron(0 2 ? * SUN *)"),
      fc.constantFrom(...ZONES),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }),
      (expression, zone, startMs) => {
        const schedule = parseSchedule(expression, zone);
        const keys = new Set<string>();
        let occurrence = schedule.next(new Date(startMs));
        for (let count = 0; occurrence && count < 60; count++) {
          const key = schedule.periodKey(occurrence);
          assert.ok(!keys.has(key), `${key} repeats (${expression} in ${zone})`);
          keys.add(key);
          const following = schedule.next(occurrence);
          assert.ok(!following || following > occurrence);
          occurrence = following;
        }
      },
    ),
    { seed: SEED, numRuns: 200 },
  );
});

const uuid = fc.uuid().map((id) => id.toLowerCase());

/** A stored instant as PostgreSQL writes it: year 0001-9999, microseconds optional. */
const storedInstant = fc.tuple(
  fc.integer({ min: new Date("0001-01-01T00:00:00Z").getTime(), max: Date.UTC(9999, 11, 31, 23, 59, 59) }),
  fc.option(fc.integer({ min: 0, max: 999_999 })),
).map(([ms, micros]) => {
  const seconds = new Date(ms).toISOString().slice(0, 19);
  return micros === null ? `${seconds}Z` : `${seconds}.${String(micros).padStart(6, "0")}Z`;
});

Deno.test("a cursor decodes to exactly what was encoded, for execution and serial ids", () => {
  fc.assert(
    fc.property(storedInstant, uuid, (startedAt, id) => {
      const cursor: Cursor = { startedAt, id };
      const text = encodeCursor(cursor);
      assert.match(text, /^[A-Za-z0-9_-]+$/, "cursors are URL-safe");
      assert.deepEqual(decodeCursor(text), cursor);
      assert.equal(decodeCursor(text, "serial"), null, "an execution cursor is not an audit cursor");
    }),
    { seed: SEED, numRuns: 1000 },
  );
  fc.assert(
    fc.property(storedInstant, fc.bigInt({ min: 1n, max: 10n ** 18n - 1n }), (startedAt, serial) => {
      const cursor: Cursor = { startedAt, id: String(serial) };
      assert.deepEqual(decodeCursor(encodeCursor(cursor), "serial"), cursor);
      assert.equal(decodeCursor(encodeCursor(cursor)), null);
    }),
    { seed: SEED, numRuns: 500 },
  );
});

Deno.test("any text or forged cursor decodes to null or to a cursor that re-encodes to itself", () => {
  const decodesSafely = (text: string) => {
    for (const kind of ["uuid", "serial"] as const) {
      const cursor = decodeCursor(text, kind);
      if (cursor === null) continue;
      assert.ok(Number.isFinite(Date.parse(cursor.startedAt)));
      assert.deepEqual(decodeCursor(encodeCursor(cursor), kind), cursor);
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 300 }), decodesSafely), { seed: SEED, numRuns: 2000 });
  fc.assert(
    fc.property(fc.base64String({ maxLength: 200 }), (text) => decodesSafely(text.replace(/=+$/, ""))),
    { seed: SEED, numRuns: 2000 },
  );
  // Forgeries: a real cursor's JSON with its fields swapped for hostile values, re-encoded.
  const hostileValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.constantFrom(
      "'; DROP TABLE job_executions; --",
      "0000-00-00T00:00:00Z",
      "+275760-09-13T00:00:00.000Z",
    ),
    fc.array(fc.string(), { maxLength: 2 }),
  );
  fc.assert(
    fc.property(
      fc.record({ s: fc.oneof(storedInstant, hostileValue), i: fc.oneof(uuid, hostileValue) }),
      fc.option(fc.record({ extra: hostileValue })),
      (fields, extra) => {
        const json = JSON.stringify({ ...fields, ...extra });
        const text = base64Url(json);
        decodesSafely(text);
        const decoded = decodeCursor(text);
        if (decoded) assert.ok(extra === null, "a cursor with an unknown field is refused");
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});
