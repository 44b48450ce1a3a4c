import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { h } from "preact";
import { NextRuns } from "../components/NextRuns.tsx";
import { nextRuns } from "../lib/jobs/next_runs.ts";
import { parseSchedule } from "../lib/jobs/schedule.ts";

function runsOf(expression: string, timezone: string, from: string, count = 5) {
  return nextRuns(parseSchedule(expression, timezone), new Date(from), count);
}

Deno.test("a weekly 09:00 New York job keeps 09:00 local across the March change, moving in UTC", () => {
  const runs = runsOf("cron(0 9 ? * MON *)", "America/New_York", "2027-03-02T00:00Z");
  assert.deepEqual(runs.map((run) => run.local), [
    "Mon 2027-03-08 09:00 EST",
    "Mon 2027-03-15 09:00 EDT",
    "Mon 2027-03-22 09:00 EDT",
    "Mon 2027-03-29 09:00 EDT",
    "Mon 2027-04-05 09:00 EDT",
  ]);
  assert.deepEqual(runs.map((run) => run.utc), [
    "2027-03-08 14:00 UTC",
    "2027-03-15 13:00 UTC",
    "2027-03-22 13:00 UTC",
    "2027-03-29 13:00 UTC",
    "2027-04-05 13:00 UTC",
  ]);
  assert.equal(runs[0].at.toISOString(), "2027-03-08T14:00:00.000Z");
  assert.ok(runs.every((run) => run.dst === null), "09:00 is never in a gap or overlap");
});

Deno.test("a daily 02:30 New York run in the spring-forward gap is flagged: it runs at 03:00", () => {
  const runs = runsOf("30 2 * * *", "America/New_York", "2027-03-12T12:00Z", 3);
  assert.deepEqual(runs.map((run) => run.utc), [
    "2027-03-13 07:30 UTC",
    "2027-03-14 07:00 UTC",
    "2027-03-15 06:30 UTC",
  ]);
  assert.equal(runs[1].local, "Sun 2027-03-14 03:00 EDT");
  assert.deepEqual(runs[1].dst, {
    kind: "gap",
    note:
      "02:30 does not exist on Sun 2027-03-14: clocks go forward from 02:00 to 03:00. It runs at 03:00 EDT instead.",
  });
  assert.equal(runs[0].dst, null);
  assert.equal(runs[2].dst, null);
});

Deno.test("a daily 03:00 run on the spring-forward day is not flagged: 03:00 exists", () => {
  const runs = runsOf("0 3 * * *", "America/New_York", "2027-03-13T12:00Z", 2);
  assert.equal(runs[0].local, "Sun 2027-03-14 03:00 EDT");
  assert.ok(runs.every((run) => run.dst === null));
});

Deno.test("a daily 01:30 New York run on the fall-back day is flagged: it occurs twice and runs at the first", () => {
  const runs = runsOf("30 1 * * *", "America/New_York", "2027-11-06T12:00Z", 2);
  assert.equal(runs[0].utc, "2027-11-07 05:30 UTC");
  assert.equal(runs[0].local, "Sun 2027-11-07 01:30 EDT");
  assert.deepEqual(runs[0].dst, {
    kind: "overlap",
    note:
      "01:30 occurs twice on Sun 2027-11-07: clocks go back from 02:00 to 01:00. It runs once, at the first 01:30 (EDT).",
  });
  assert.equal(runs[1].utc, "2027-11-08 06:30 UTC");
  assert.equal(runs[1].dst, null);
});

Deno.test("an hourly job runs at both 01:00s on the fall-back day, and both are flagged", () => {
  const runs = runsOf("0 * * * *", "America/New_York", "2027-11-07T04:30Z", 4);
  assert.deepEqual(runs.map((run) => run.local), [
    "Sun 2027-11-07 01:00 EDT",
    "Sun 2027-11-07 01:00 EST",
    "Sun 2027-11-07 02:00 EST",
    "Sun 2027-11-07 03:00 EST",
  ]);
  assert.deepEqual(runs.map((run) => run.dst?.kind ?? null), ["overlap", "overlap", null, null]);
  assert.match(runs[0].dst!.note, /01:00 occurs twice .* runs at both; this is the first \(EDT\)\.$/);
  assert.match(runs[1].dst!.note, /this is the second \(EST\)\.$/);
});

Deno.test("an hourly job's run after the spring-forward gap says the 02:00 run does not happen", () => {
  const runs = runsOf("0 * * * *", "America/New_York", "2027-03-14T05:30Z", 3);
  assert.deepEqual(runs.map((run) => run.local), [
    "Sun 2027-03-14 01:00 EST",
    "Sun 2027-03-14 03:00 EDT",
    "Sun 2027-03-14 04:00 EDT",
  ]);
  assert.deepEqual(runs.map((run) => run.dst?.kind ?? null), [null, "gap", null]);
  assert.match(
    runs[1].dst!.note,
    /^No run at 02:00 on Sun 2027-03-14: clocks go forward from 02:00 to 03:00/,
  );
});

Deno.test("rate(1 hour) follows real time, so the repeated hour raises no warning", () => {
  const runs = runsOf("rate(1 hour)", "America/New_York", "2027-11-07T04:30Z", 4);
  assert.deepEqual(runs.map((run) => run.utc), [
    "2027-11-07 05:00 UTC",
    "2027-11-07 06:00 UTC",
    "2027-11-07 07:00 UTC",
    "2027-11-07 08:00 UTC",
  ]);
  assert.equal(runs[1].local, "Sun 2027-11-07 01:00 EST");
  assert.ok(runs.every((run) => run.dst === null));
});

Deno.test("a daily 01:30 London job is flagged on both of Europe/London's change days", () => {
  const spring = runsOf("cron(30 1 * * ? *)", "Europe/London", "2027-03-27T12:00Z", 2);
  assert.equal(spring[0].utc, "2027-03-28 01:00 UTC");
  assert.equal(spring[0].local, "Sun 2027-03-28 02:00 GMT+1");
  assert.equal(spring[0].dst?.kind, "gap");
  assert.match(spring[0].dst!.note, /^01:30 does not exist .* from 01:00 to 02:00\. It runs at 02:00 GMT\+1/);
  assert.equal(spring[1].dst, null);
  const autumn = runsOf("cron(30 1 * * ? *)", "Europe/London", "2027-10-30T12:00Z", 2);
  assert.equal(autumn[0].utc, "2027-10-31 00:30 UTC");
  assert.equal(autumn[0].dst?.kind, "overlap");
  assert.equal(autumn[1].local, "Mon 2027-11-01 01:30 GMT");
});

Deno.test("Sydney's changes are flagged in its own seasons: forward in October, back in April", () => {
  const october = runsOf("30 2 * * *", "Australia/Sydney", "2027-10-02T12:00Z", 2);
  assert.equal(october[0].local, "Sun 2027-10-03 03:00 GMT+11");
  assert.equal(october[0].utc, "2027-10-02 16:00 UTC");
  assert.equal(october[0].dst?.kind, "gap");
  const april = runsOf("30 2 * * *", "Australia/Sydney", "2027-04-03T12:00Z", 2);
  assert.equal(april[0].local, "Sun 2027-04-04 02:30 GMT+11");
  assert.equal(april[0].dst?.kind, "overlap");
  assert.match(april[0].dst!.note, /clocks go back from 03:00 to 02:00\. It runs once, at the first 02:30/);
  assert.equal(april[1].local, "Mon 2027-04-05 02:30 GMT+10");
  assert.equal(april[1].dst, null);
});

Deno.test("an interval schedule's skipped gap times are named on the next run, even a day later", () => {
  const runs = runsOf("*/30 2 * * *", "America/New_York", "2027-03-13T12:00Z", 2);
  assert.equal(runs[0].local, "Mon 2027-03-15 02:00 EDT");
  assert.match(runs[0].dst!.note, /^No run at 02:00 and 02:30 on Sun 2027-03-14/);
  assert.equal(runs[1].dst, null);
});

Deno.test("nextRuns stops early when the schedule ends", () => {
  const runs = runsOf("cron(0 9 1 1 ? 2027)", "UTC", "2026-06-01T00:00Z");
  assert.deepEqual(runs.map((run) => run.utc), ["2027-01-01 09:00 UTC"]);
});

Deno.test("NextRuns shows local and UTC times and a worded warning on DST runs", () => {
  const runs = runsOf("30 2 * * *", "America/New_York", "2027-03-12T12:00Z", 3);
  const html = renderToString(h(NextRuns, { runs, timezone: "America/New_York" }));
  assert.match(html, /Local time \(America\/New_York\)/);
  assert.equal(html.match(/<time /g)?.length, 3);
  assert.match(html, /<time datetime="2027-03-14T07:00:00.000Z">Sun 2027-03-14 03:00 EDT<\/time>/);
  assert.equal(html.match(/data-dst="gap"/g)?.length, 1);
  assert.match(html, /Daylight saving time:<\/strong> 02:30 does not exist/);
  assert.match(renderToString(h(NextRuns, { runs: [], timezone: "UTC" })), /No upcoming runs/);
});
