import assert from "node:assert/strict";
import { connectPostgres } from "../lib/db/mod.ts";
import { EventBus, type ExecutionEvent, forwardNotifications, relayNotifications } from "../lib/events.ts";
import { createMemoryLogger } from "../lib/log.ts";
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
      const stopForwarding = forwardNotifications(
        db.sql,
        scheduler.deps.bus,
        scheduler.deps.instanceId,
        createMemoryLogger(),
      );
      await scheduler.tickAndSettle();
      clock.advance(MINUTE);
      await scheduler.tickAndSettle();
      const deadline = Date.now() + 5000;
      while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(heard.map((e) => [e.jobId, e.status]), [["ping", "running"], ["ping", "completed"]]);
      assert.equal(heard[0].executionId, scheduler.events[0].executionId);
      assert.equal(echoes.length, 0, "an instance skips its own notifications");
      await stopForwarding();
      await stopOwn();
    } finally {
      await stop();
      await listenerDb.close();
      await db.close();
    }
  },
});

Deno.test({
  name: "a burst of events goes out in order, and other instances' events are not sent back",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const listenerDb = connectPostgres(db.url!, { max: 2 });
    const heard: ExecutionEvent[] = [];
    const remoteBus = new EventBus();
    remoteBus.on((event) => heard.push(event));
    const stopRelay = await relayNotifications(listenerDb.sql, remoteBus, "remote");
    const bus = new EventBus();
    const log = createMemoryLogger();
    const stopForwarding = forwardNotifications(db.sql, bus, "local", log);
    try {
      const sent = Array.from({ length: 1200 }, (_, i) => ({
        executionId: `e-${i}`,
        jobId: "ping",
        status: "completed" as const,
        instanceId: "local",
      }));
      for (const event of sent) bus.emit(event);
      bus.emit({ executionId: "from-elsewhere", jobId: "ping", status: "running", instanceId: "third" });
      await stopForwarding();
      const deadline = Date.now() + 10_000;
      while (heard.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(heard.map((e) => e.executionId), sent.map((e) => e.executionId));
      assert.deepEqual(log.lines, []);
    } finally {
      await stopRelay();
      await listenerDb.close();
      await db.close();
    }
  },
});

Deno.test({
  name: "when the database is away, forwarding logs the events as lost and never throws",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    const bus = new EventBus();
    const log = createMemoryLogger();
    const closed = connectPostgres(db.url!, { max: 1 });
    await closed.close();
    const stopForwarding = forwardNotifications(closed.sql, bus, "local", log);
    try {
      bus.emit({ executionId: "e-1", jobId: "ping", status: "completed", instanceId: "local" });
      await stopForwarding();
      assert.equal(log.lines.length, 1);
      assert.match(log.lines[0], /could not tell other instances about run changes/);
      assert.match(log.lines[0], /"events":1/);
    } finally {
      await db.close();
    }
  },
});
