import assert from "node:assert/strict";
import { assessLateness, graceMs } from "../lib/jobs/lateness.ts";
import { parseSchedule } from "../lib/jobs/schedule.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => new Date(iso);

function lateness(
  schedule: string,
  lastStartedAt: string | null,
  now: string,
  extra: { maxAgeMs?: number; running?: boolean; timezone?: string } = {},
) {
  return assessLateness({
    schedule: parseSchedule(schedule, extra.timezone ?? "UTC"),
    maxAgeMs: extra.maxAgeMs ?? null,
    lastStartedAt: lastStartedAt ? at(lastStartedAt) : null,
    watchFrom: at("2027-03-01T00:00:00Z"),
    running: extra.running ?? false,
    now: at(now),
  });
}

Deno.test("grace is 10 % of the interval, at least 5 minutes", () => {
  assert.equal(graceMs(MIN), 5 * MIN);
  assert.equal(graceMs(HOUR), 6 * MIN);
  assert.equal(graceMs(7 * 24 * HOUR), 16.8 * HOUR);
});

Deno.test("an hourly job that started at 09:00 is expected by 10:06 and late after", () => {
  const started = "2027-03-02T09:00:00.400Z";
  assert.equal(lateness("rate(1 hour)", started, "2027-03-02T10:05:00Z").late, false);
  const late = lateness("0 * * * *", started, "2027-03-02T10:07:00Z");
  assert.deepEqual(late, { late: true, expectedBy: at("2027-03-02T10:06:00Z") });
});

Deno.test("a run in progress is never late", () => {
  assert.equal(
    lateness("0 * * * *", "2027-03-02T09:00:00Z", "2027-03-02T12:00:00Z", { running: true }).late,
    false,
  );
});

Deno.test("a start a little early counts for the occurrence just after it", () => {
  const early = lateness("0 9 * * *", "2027-03-02T08:59:30Z", "2027-03-02T12:00:00Z");
  assert.equal(early.late, false);
  assert.equal(early.expectedBy?.toISOString(), "2027-03-03T11:24:00.000Z");
});

Deno.test("a job that never started is measured from when watching began", () => {
  // Weekly on Monday 09:00; watching began Monday 2027-03-01 00:00, so 09:00 that day + 16.8 h.
  assert.equal(lateness("cron(0 9 ? * MON *)", null, "2027-03-02T01:00:00Z").late, false);
  assert.equal(lateness("cron(0 9 ? * MON *)", null, "2027-03-02T02:00:00Z").late, true);
});

Deno.test("maxAgeHours, when set, only makes the deadline later", () => {
  const result = lateness("0 * * * *", "2027-03-02T09:00:00Z", "2027-03-02T11:01:00Z", {
    maxAgeMs: 2 * HOUR,
  });
  assert.deepEqual(result, { late: true, expectedBy: at("2027-03-02T11:00:00Z") });
  // A weekly job with maxAgeHours 168 across the November change: the week is 169 h long, and the
  // schedule's own deadline (next Monday 09:00 New York + grace) wins over start + 168 h.
  const weekly = lateness("cron(0 9 ? * MON *)", "2027-11-01T13:00:00.200Z", "2027-11-08T13:30:00Z", {
    maxAgeMs: 168 * HOUR,
    timezone: "America/New_York",
  });
  assert.equal(weekly.late, false);
  assert.equal(weekly.expectedBy?.toISOString(), "2027-11-09T06:48:00.000Z"); // 14:00Z + 16.8 h
});

Deno.test("a daily job across the spring-forward night is not called late early", () => {
  // 02:30 does not exist on 2027-03-14 in New York; croner runs it at 03:00 local (07:00 UTC).
  const result = lateness("30 2 * * *", "2027-03-13T07:30:00Z", "2027-03-14T07:20:00Z", {
    timezone: "America/New_York",
  });
  assert.equal(result.late, false);
});
