import assert from "node:assert/strict";
import { connectPostgres } from "../lib/db/mod.ts";
import { EventBus, type ExecutionEvent, relayNotifications } from "../lib/events.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { dbTest } from "./helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { createClock, createScheduler, MINUTE, syncJobs } from "./helpers/scheduler.ts";

Deno.test({
  name: "on PostgreSQL, another instance hears every state change through NOTIFY, but not its own twice",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const listenerDb = connectPostgres(db.url!, { max: 2 });
    const clock = createClock();
    const job = defineJob({ id: "ping", displayName: "Ping", schedule: "* * * * *", run: () => "pong" });
    const remoteBus = new EventBus();
    const heard: ExecutionEvent[] = [];
    remoteBus.on((event) => heard.push(event));
    const stop = await relayNotifications(listenerDb.sql, remoteBus, "the-other-instance");
    const ownBus = new EventBus();
    const echoes: ExecutionEvent[] = [];
    ownBus.on((event) => echoes.push(event));
    try {
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(db.sql, [job], clock, "writer");
      const stopOwn = await relayNotifications(listenerDb.sql, ownBus, scheduler.deps.instanceId);
      await scheduler.tickAndSettle();
      clock.advance(MINUTE);
      await scheduler.tickAndSettle();
      const deadline = Date.now() + 5000;
      while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(heard.map((e) => [e.jobId, e.status]), [["ping", "running"], ["ping", "completed"]]);
      assert.equal(heard[0].executionId, scheduler.events[0].executionId);
      assert.equal(echoes.length, 0, "an instance skips its own notifications");
      await stopOwn();
    } finally {
      await stop();
      await listenerDb.close();
      await db.close();
    }
  },
});
