import FakeTimers from "@sinonjs/fake-timers";
import assert from "node:assert/strict";
import type { ExecutionEvent } from "../lib/events.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { HEARTBEAT_MS } from "../routes/api/admin/events.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";
import { startServer } from "./helpers/browser.ts";

const jobs = [
  defineJob({ id: "digest", displayName: "Digest", schedule: "rate(1 hour)", run: () => ({ sent: 3 }) }),
];

async function withApp(fn: (t: TestApp, viewer: string, admin: string) => Promise<void>) {
  const t = await createTestApp({ jobs });
  try {
    const viewer = await t.signIn(await makeUser(t.db, { role: "viewer" }));
    const admin = await t.signIn(await makeUser(t.db, { role: "admin" }));
    await fn(t, viewer, admin);
  } finally {
    t.deps.jobs.bus.close();
    await t.close();
  }
}

interface SseMessage {
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** Reads an event stream message by message, failing instead of hanging when none comes. */
function readEvents(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(timeoutMs = 3000): Promise<SseMessage> {
      while (true) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) message.comment = line.slice(1).trim();
            else {
              const [field, ...rest] = line.split(":");
              message[field as "event" | "data" | "retry"] = rest.join(":").trimStart();
            }
          }
          return message;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
        if (chunk.done) throw new Error("the stream ended");
        buffer += chunk.value;
      }
    },
    /** Resolves true when the stream ends (without more data) within the time. */
    async ended(timeoutMs = 3000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(r, 100, null))]);
        if (chunk?.done) return true;
      }
      return false;
    },
    cancel: () => reader.cancel(),
  };
}

function openStream(t: TestApp, cookie: string, query = "") {
  return t.app.request(`/api/admin/events${query}`, {
    headers: { cookie, accept: "text/event-stream", "accept-encoding": "gzip, deflate" },
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const change = (over: Partial<ExecutionEvent> = {}): ExecutionEvent => ({
  executionId: crypto.randomUUID(),
  jobId: "digest",
  status: "running",
  instanceId: "another-instance",
  ...over,
});

Deno.test({
  name: "the event stream needs a session: signed out, it answers 401 with a JSON error",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const response = await t.app.request("/api/admin/events", { headers: { accept: "text/event-stream" } });
      assert.equal(response.status, 401);
      assert.match((await response.json()).error, /Sign in/);
      assert.equal(t.deps.jobs.bus.listenerCount, 0);
    }),
});

Deno.test({
  name: "a viewer's stream is text/event-stream, uncached, unbuffered, not gzipped, and starts with retry",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const response = await openStream(t, viewer);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.equal(response.headers.get("x-accel-buffering"), "no");
      assert.equal(response.headers.get("content-encoding"), null, "compress() must not touch the stream");
      const events = readEvents(response);
      // Read while the stream is still open: a buffering compressor would hold this back.
      assert.deepEqual(await events.next(), { retry: "2000" });
      await events.cancel();
    }),
});

Deno.test({
  name: "a change on the bus arrives at once as event: execution with id, job and status but no instanceId",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const events = readEvents(await openStream(t, viewer));
      await events.next(); // retry
      const emitted = change({ status: "failed" });
      t.deps.jobs.bus.emit(emitted);
      const message = await events.next();
      assert.equal(message.event, "execution");
      assert.deepEqual(JSON.parse(message.data!), {
        executionId: emitted.executionId,
        jobId: "digest",
        status: "failed",
      });
      await events.cancel();
    }),
});

Deno.test({
  name: "Run now's execution streams as running, then completed",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer, admin) => {
      const events = readEvents(await openStream(t, viewer));
      await events.next(); // retry
      const triggered = await t.app.request("/api/admin/jobs/digest/trigger", {
        method: "POST",
        headers: { cookie: admin, origin: ORIGIN },
      });
      assert.equal(triggered.status, 202);
      const { executionId } = await triggered.json();
      const running = JSON.parse((await events.next()).data!);
      const completed = JSON.parse((await events.next()).data!);
      assert.deepEqual(running, { executionId, jobId: "digest", status: "running" });
      assert.deepEqual(completed, { executionId, jobId: "digest", status: "completed" });
      await events.cancel();
    }),
});

Deno.test({
  name: "?jobId= streams only that job's changes",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const events = readEvents(await openStream(t, viewer, "?jobId=digest"));
      await events.next(); // retry
      t.deps.jobs.bus.emit(change({ jobId: "backup" }));
      const wanted = change({ jobId: "digest" });
      t.deps.jobs.bus.emit(wanted);
      const message = await events.next();
      assert.equal(JSON.parse(message.data!).executionId, wanted.executionId, "backup's event was skipped");
      await events.cancel();
    }),
});

Deno.test({
  name: "a client that goes away leaves no listener on the bus (in-process and over real HTTP)",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const { bus } = t.deps.jobs;
      assert.equal(bus.listenerCount, 0);

      // In-process, the client leaving is the body being cancelled, as Deno.serve does on a disconnect.
      const cancelled = readEvents(await openStream(t, viewer, "?jobId=digest"));
      await cancelled.next();
      assert.equal(bus.listenerCount, 1);
      await cancelled.cancel();
      await waitFor(() => bus.listenerCount === 0, "the cancelled stream to unsubscribe");

      const server = startServer(t);
      try {
        const controller = new AbortController();
        const response = await fetch(`${server.url}/api/admin/events`, {
          headers: { cookie: viewer },
          signal: controller.signal,
        });
        const events = readEvents(response);
        assert.deepEqual(await events.next(), { retry: "2000" });
        assert.equal(bus.listenerCount, 1);
        controller.abort();
        await waitFor(() => bus.listenerCount === 0, "the server to notice the client left");
      } finally {
        await server.close();
      }
      bus.emit(change()); // nothing is listening: must not throw or write to a closed stream
    }),
});

/**
 * Opens a stream with the heartbeat's interval faked (the database and the streams keep their real
 * timeouts), past its first `retry:` message, and hands both to `fn`.
 */
async function withFakeIntervals(
  t: TestApp,
  cookie: string,
  fn: (clock: ReturnType<typeof FakeTimers.install>, events: ReturnType<typeof readEvents>) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({ toFake: ["setInterval", "clearInterval"] });
  try {
    const events = readEvents(await openStream(t, cookie));
    await events.next(); // retry
    await fn(clock, events);
  } finally {
    clock.uninstall();
  }
}

Deno.test({
  name: "an idle stream gets a heartbeat comment every 15 s, and its timer stops with the stream",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      await withFakeIntervals(t, viewer, async (clock, events) => {
        assert.equal(clock.countTimers(), 1);
        clock.tick(HEARTBEAT_MS);
        assert.deepEqual(await events.next(), { comment: "heartbeat" });
        clock.tick(HEARTBEAT_MS);
        assert.deepEqual(await events.next(), { comment: "heartbeat" });
        await events.cancel();
        await waitFor(() => clock.countTimers() === 0, "the heartbeat to stop");
      });
    }),
});

Deno.test({
  name: "a stream ends at the next heartbeat once its session has ended (sign-out here)",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      await withFakeIntervals(t, viewer, async (clock, events) => {
        const signedOut = await t.app.request("/logout", {
          method: "POST",
          headers: { cookie: viewer, origin: ORIGIN },
        });
        assert.equal(signedOut.status, 303);
        clock.tick(HEARTBEAT_MS);
        assert.equal(await events.ended(), true, "the stream outlived its session");
        await waitFor(() => t.deps.jobs.bus.listenerCount === 0, "the stream to unsubscribe");
      });
    }),
});

Deno.test({
  name: "closing the bus (shutdown) ends every open stream, so the server can stop",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const first = readEvents(await openStream(t, viewer));
      const second = readEvents(await openStream(t, viewer, "?jobId=digest"));
      await first.next();
      await second.next();
      t.deps.jobs.bus.close();
      assert.equal(await first.ended(), true);
      assert.equal(await second.ended(), true);
      assert.equal(t.deps.jobs.bus.listenerCount, 0);
    }),
});

Deno.test({
  name: "a jobId longer than any job's id is refused with 400",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const response = await t.app.request(`/api/admin/events?jobId=${"x".repeat(201)}`, {
        headers: { cookie: viewer },
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /too long/);
      assert.equal(t.deps.jobs.bus.listenerCount, 0);
    }),
});
