import assert from "node:assert/strict";
import type { ExecutionStatus } from "../lib/events.ts";
import { listDailyOutcomes, listJobSummaries, listRecentRuns } from "../lib/queries/dashboard.ts";
import { listJobDefinitions } from "../lib/queries/jobs.ts";
import { dbTest, withDatabase } from "./helpers/db.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";

const NOW = new Date("2027-03-10T12:00:00Z");

Deno.test({
  name: "job summaries: the latest run, the latest finished run and the last 24 hours of every job",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "alpha", { displayName: "Alpha" });
      await makeJob(sql, "beta", { displayName: "Beta" });
      await makeJob(sql, "delta", { displayName: "Beta" });
      await makeJob(sql, "gamma", { displayName: "Aardvark", retiredAt: "2027-03-02T00:00:00Z" });
      const run = (startedAt: string, status: ExecutionStatus, durationMs?: number, errorMessage?: string) =>
        makeExecution(sql, { jobId: "alpha", startedAt, status, durationMs, errorMessage });
      await run("2027-03-09T11:59:59.999999Z", "completed", 90_000); // just outside the 24 hours
      await run("2027-03-09T12:00:00Z", "completed", 1000); // exactly now - 24 h: inside
      await run("2027-03-09T18:00:00Z", "completed", 2000);
      await run("2027-03-10T01:00:00Z", "failed", 4000, "upstream timed out");
      await run("2027-03-10T03:00:00Z", "skipped", 0);
      const finished = await run("2027-03-10T06:00:00Z", "completed", 3000);
      const running = await run("2027-03-10T11:00:00Z", "running");
      const retired = await makeExecution(sql, {
        jobId: "gamma",
        startedAt: "2027-03-01T00:00:00Z",
        status: "failed",
        durationMs: 10,
        errorMessage: "gone",
      });

      const summaries = await listJobSummaries(sql, NOW);
      assert.deepEqual(
        summaries.map((summary) => summary.definition),
        [...await listJobDefinitions(sql)],
        "every job, ordered and shaped as listJobDefinitions",
      );
      assert.deepEqual(summaries.map((summary) => summary.definition.id), [
        "alpha",
        "beta",
        "delta",
        "gamma",
      ]);
      const [alpha, beta, , gamma] = summaries;

      assert.deepEqual(alpha.last, {
        id: running,
        status: "running",
        startedAt: new Date("2027-03-10T11:00:00Z"),
        durationMs: null,
        errorMessage: null,
      });
      assert.deepEqual(alpha.lastFinished, {
        id: finished,
        status: "completed",
        startedAt: new Date("2027-03-10T06:00:00Z"),
        errorMessage: null,
      });
      // Finished durations 1000, 2000, 4000, 3000: p95 interpolates 85% of the way from 3000 to 4000.
      const { p95Ms, ...day } = alpha.day;
      assert.deepEqual(day, { runs: 5, completed: 3, failures: 1, avgMs: 2500 });
      assert.ok(Math.abs(p95Ms! - 3850) < 1e-6, `p95 ${p95Ms}`);

      assert.deepEqual(beta, {
        definition: beta.definition,
        last: null,
        lastFinished: null,
        day: { runs: 0, completed: 0, failures: 0, avgMs: null, p95Ms: null },
      });

      assert.equal(gamma.last?.id, retired);
      assert.deepEqual(gamma.lastFinished, {
        id: retired,
        status: "failed",
        startedAt: new Date("2027-03-01T00:00:00Z"),
        errorMessage: "gone",
      });
      assert.deepEqual(gamma.day, { runs: 0, completed: 0, failures: 0, avgMs: null, p95Ms: null });

      // One job's summary (a job's page) is the same as in the list.
      assert.deepEqual(await listJobSummaries(sql, NOW, { jobId: "alpha" }), [alpha]);
      assert.deepEqual(await listJobSummaries(sql, NOW, { jobId: "nope" }), []);
    }),
});

Deno.test({
  name: "recent runs: the newest ones without skipped runs, oldest first",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest");
      await makeJob(sql, "other");
      await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-01T00:00:00Z", durationMs: 5 });
      const second = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-02T00:00:00Z",
        durationMs: 7,
        result: { sent: 3 },
      });
      await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-03T00:00:00Z", status: "skipped" });
      const third = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-04T00:00:00.000001Z",
        status: "failed",
        durationMs: 9,
      });
      const fourth = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-05T00:00:00Z",
        status: "running",
      });
      await makeExecution(sql, { jobId: "other", startedAt: "2027-03-06T00:00:00Z" });

      assert.deepEqual(await listRecentRuns(sql, "digest", 3), [
        {
          id: second,
          status: "completed",
          startedAt: "2027-03-02T00:00:00.000Z",
          durationMs: 7,
          result: { sent: 3 },
        },
        { id: third, status: "failed", startedAt: "2027-03-04T00:00:00.000Z", durationMs: 9, result: null },
        {
          id: fourth,
          status: "running",
          startedAt: "2027-03-05T00:00:00.000Z",
          durationMs: null,
          result: null,
        },
      ]);
      assert.equal((await listRecentRuns(sql, "digest")).length, 4);
      assert.deepEqual(await listRecentRuns(sql, "nope"), []);
    }),
});

Deno.test({
  name: "daily outcomes: one entry per UTC day of the window, zero-filled, ending today",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest");
      await makeJob(sql, "other");
      const run = (startedAt: string, status: ExecutionStatus = "completed") =>
        makeExecution(sql, { jobId: "digest", startedAt, status });
      await run("2027-03-03T23:59:59.999999Z"); // the day before the window
      await run("2027-03-04T00:00:00Z");
      await run("2027-03-06T10:00:00Z", "failed");
      await run("2027-03-06T11:00:00Z", "skipped");
      await run("2027-03-06T12:00:00Z");
      await run("2027-03-09T23:59:59.999999Z");
      await run("2027-03-10T04:00:00Z", "running");
      await makeExecution(sql, { jobId: "other", startedAt: "2027-03-10T01:00:00Z" });
      const now = new Date("2027-03-10T05:00:00Z");
      const zero = { completed: 0, failed: 0, skipped: 0, running: 0 };
      const expected = [
        { day: "2027-03-04", ...zero, completed: 1 },
        { day: "2027-03-05", ...zero },
        { day: "2027-03-06", ...zero, completed: 1, failed: 1, skipped: 1 },
        { day: "2027-03-07", ...zero },
        { day: "2027-03-08", ...zero },
        { day: "2027-03-09", ...zero, completed: 1 },
        { day: "2027-03-10", ...zero, running: 1 },
      ];
      assert.deepEqual([...await listDailyOutcomes(sql, "digest", now, 7)], expected);

      // Days are UTC whatever the session's time zone.
      const elsewhere = await sql.begin(async (tx) => {
        await tx`SET LOCAL TimeZone = 'Pacific/Auckland'`;
        return [...await listDailyOutcomes(tx, "digest", now, 7)];
      });
      assert.deepEqual(elsewhere, expected);

      const month = await listDailyOutcomes(sql, "nope", now);
      assert.equal(month.length, 30);
      assert.equal(month[0].day, "2027-02-09");
      assert.equal(month.at(-1)!.day, "2027-03-10");
      assert.ok(month.every((day) => day.completed + day.failed + day.skipped + day.running === 0));
    }),
});
