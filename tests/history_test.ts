/** The history's query string and page cursors (lib/history.ts), and lib/format.ts. */
import assert from "node:assert/strict";
import { decodeCursor, encodeCursor, historySearch, parseHistoryQuery } from "../lib/history.ts";
import { formatCount, formatDuration, formatRelative } from "../lib/format.ts";

const ID = "0b0e9f2e-1111-4222-8333-444455556666";

Deno.test("valid filters parse into typed values; empty values count as absent", () => {
  const parsed = parseHistoryQuery({
    jobId: "",
    status: "failed",
    trigger: "manual",
    from: "2027-03-01T00:00:00Z",
    to: "2027-03-02T10:00",
    limit: "10",
  });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.query, {
    status: "failed",
    trigger: "manual",
    from: new Date("2027-03-01T00:00:00Z"),
    // A datetime-local value has no zone: it is read as UTC, as the form's labels say.
    to: new Date("2027-03-02T10:00:00Z"),
    limit: 10,
  });
  assert.equal(parseHistoryQuery({}).query.limit, 50);
  const offset = parseHistoryQuery({ from: "2027-03-01T02:00:00+02:00" });
  assert.ok(offset.ok);
  assert.equal(offset.query.from?.toISOString(), "2027-03-01T00:00:00.000Z");
});

Deno.test("each invalid parameter gets a message naming what is wrong, and is dropped from the query", () => {
  const parsed = parseHistoryQuery({
    status: "exploded",
    trigger: "cron",
    limit: "101",
    from: "yesterday",
    jobId: "digest",
  });
  assert.equal(parsed.ok, false);
  if (parsed.ok) return;
  assert.deepEqual(Object.fromEntries(parsed.issues.map((issue) => [issue.field, issue.message])), {
    status: "must be one of running, completed, failed, skipped",
    trigger: "must be one of scheduled, manual, external",
    limit: "must be at most 100",
    from: "must be an ISO date and time",
  });
  assert.deepEqual(parsed.query, { jobId: "digest", limit: 50 });
  for (const limit of ["0", "-5", "2.5", "abc", "1e400"]) {
    assert.equal(parseHistoryQuery({ limit }).ok, false, `limit=${limit}`);
  }
  const reversed = parseHistoryQuery({ from: "2027-03-02T00:00:00Z", to: "2027-03-01T00:00:00Z" });
  assert.equal(reversed.ok, false);
  if (!reversed.ok) assert.deepEqual(reversed.issues, [{ field: "to", message: "must not be before from" }]);
});

Deno.test("a cursor round-trips; forged or foreign cursors are refused", () => {
  const cursor = { startedAt: "2027-03-01T09:00:00.123456Z", id: ID };
  const text = encodeCursor(cursor);
  assert.match(text, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(text), cursor);
  const parsed = parseHistoryQuery({ after: text });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.query.after, cursor);

  const forged = [
    "",
    "not-a-cursor",
    "x".repeat(300),
    btoa(JSON.stringify({ s: "2027-03-01T09:00:00Z", i: "1; DROP TABLE job_executions" })),
    btoa(JSON.stringify({ s: "yesterday", i: ID })),
    btoa(JSON.stringify({ s: "2027-13-45T99:00:00Z", i: ID })),
    btoa(JSON.stringify({ s: "2027-03-01T09:00:00Z", i: ID, extra: 1 })),
    btoa("[]"),
  ];
  for (const text of forged) assert.equal(decodeCursor(text), null, text);
  // An audit cursor (serial id) is not an execution cursor, and the other way round.
  const audit = encodeCursor({ startedAt: "2027-03-01T09:00:00Z", id: "42" });
  assert.equal(decodeCursor(audit), null);
  assert.deepEqual(decodeCursor(audit, "serial"), { startedAt: "2027-03-01T09:00:00Z", id: "42" });
  assert.equal(decodeCursor(text, "serial"), null);
  const both = parseHistoryQuery({ after: text, before: text });
  assert.equal(both.ok, false);
});

Deno.test("page links keep the filters and drop the defaults", () => {
  assert.equal(historySearch({}), "");
  assert.equal(
    historySearch({
      status: "failed",
      jobId: "a b",
      limit: 50,
      from: new Date("2027-03-01T00:00:00Z"),
      after: "abc",
    }),
    "?jobId=a+b&status=failed&from=2027-03-01T00%3A00%3A00.000Z&after=abc",
  );
  assert.equal(historySearch({ limit: 25 }), "?limit=25");
});

Deno.test("durations read as 840 ms, 12.4 s, 3 min 5 s", () => {
  const cases: [number, string][] = [
    [0, "0 ms"],
    [840, "840 ms"],
    [999.6, "1 s"],
    [12_400, "12.4 s"],
    [12_000, "12 s"],
    [59_990, "1 min"],
    [185_000, "3 min 5 s"],
    [3_600_000, "1 h"],
    [7_500_000, "2 h 5 min"],
    [90_000_000, "1 d 1 h"],
    [-1, "—"],
    [Number.NaN, "—"],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms} ms`);
});

Deno.test("counts are exact, or rounded with 'about' when estimated", () => {
  assert.equal(formatCount(12_345), "12,345");
  assert.equal(formatCount(1_234_567, true), "about 1.2 M");
  assert.equal(formatCount(15_000, true), "about 15 K");
  assert.equal(formatCount(123_456_789, true), "about 123 M");
  assert.equal(formatCount(10_001, true), "about 10 K");
});

Deno.test("relative times say how long ago or how soon, in the largest whole unit", () => {
  const now = new Date("2027-03-08T12:00:00Z");
  const at = (ms: number) => new Date(now.getTime() + ms);
  assert.equal(formatRelative(at(0), now), "just now");
  assert.equal(formatRelative(at(-30_000), now), "30 seconds ago");
  assert.equal(formatRelative(at(-5 * 60_000), now), "5 minutes ago");
  assert.equal(formatRelative(at(3 * 3600_000), now), "in 3 hours");
  assert.equal(formatRelative(at(-36 * 3600_000), now), "2 days ago");
  assert.equal(formatRelative(at(7 * 24 * 3600_000).toISOString(), now.getTime()), "in 7 days");
});
