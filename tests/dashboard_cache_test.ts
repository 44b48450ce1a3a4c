import assert from "node:assert/strict";
import { JobSummaryCache } from "../lib/dashboard_cache.ts";
import { EventBus } from "../lib/events.ts";
import { dbTest, withDatabase } from "./helpers/db.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";

const NOW = new Date("2027-03-10T12:00:00Z");
const run = (jobId: string) => ({ jobId, startedAt: "2027-03-10T11:00:00Z", status: "completed" as const });

Deno.test({
  name: "the dashboard cache shares one read between concurrent requests and keeps it until it expires",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "alpha");
      const cache = new JobSummaryCache({ sql, ttlMs: 60_000 });
      const burst = await Promise.all(Array.from({ length: 20 }, () => cache.list(NOW)));
      assert.equal(cache.loads, 1, "20 concurrent requests, one read");
      assert.ok(burst.every((summaries) => summaries === burst[0]));
      await makeExecution(sql, run("alpha"));
      assert.equal((await cache.list(NOW))[0].last, null, "within the time to live, the kept read answers");
      assert.equal(cache.loads, 1);
    }),
});

Deno.test({
  name: "an execution event or a local change makes the next request read the summaries again",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "alpha");
      const bus = new EventBus();
      const cache = new JobSummaryCache({ sql, bus, ttlMs: 60_000 });
      assert.equal((await cache.list(NOW))[0].last, null);
      const id = await makeExecution(sql, run("alpha"));
      bus.emit({ executionId: id, jobId: "alpha", status: "completed", instanceId: "other" });
      assert.equal((await cache.list(NOW))[0].last?.id, id, "the run shows after its event");
      assert.equal(cache.loads, 2);
      cache.invalidate();
      await cache.list(NOW);
      assert.equal(cache.loads, 3);
    }),
});

Deno.test({
  name: "a read that an event overtook is shared with its waiters but not kept",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "alpha");
      const bus = new EventBus();
      const cache = new JobSummaryCache({ sql, bus, ttlMs: 60_000 });
      const inFlight = cache.list(NOW);
      const id = await makeExecution(sql, run("alpha"));
      bus.emit({ executionId: id, jobId: "alpha", status: "completed", instanceId: "other" });
      await inFlight;
      assert.equal((await cache.list(NOW))[0].last?.id, id);
      assert.equal(cache.loads, 2);
    }),
});

Deno.test({
  name: "without a time to live (the default) every request reads, so tests and fake clocks see every change",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "alpha");
      const cache = new JobSummaryCache({ sql });
      await cache.list(NOW);
      const id = await makeExecution(sql, run("alpha"));
      assert.equal((await cache.list(NOW))[0].last?.id, id);
      assert.equal(cache.loads, 2);
    }),
});

Deno.test({
  name: "only a cache that keeps answers listens to the bus (an uncached one adds no listener)",
  ...dbTest,
  fn: () =>
    withDatabase((sql) => {
      const bus = new EventBus();
      new JobSummaryCache({ sql, bus });
      assert.equal(bus.listenerCount, 0);
      new JobSummaryCache({ sql, bus, ttlMs: 1_000 });
      assert.equal(bus.listenerCount, 1);
      return Promise.resolve();
    }),
});
