/**
 * Delivering the alert outbox through the real Resend SDK to a local fake
 * of Resend's API: retries, Retry-After, the attempt cap, a worker that dies
 * after the send, two workers racing, and a real kill -9 (PostgreSQL).
 */
import assert from "node:assert/strict";
import { createResendChannel, createWebhookChannel } from "../lib/alerts/channels.ts";
import { insertAlerts, UNROUTED } from "../lib/alerts/record.ts";
import type { AlertChannel } from "../lib/alerts/types.ts";
import {
  AlertWorker,
  FIRST_BACKOFF_MS,
  idempotencyKey,
  LEASE_MS,
  MAX_ATTEMPTS,
} from "../lib/alerts/worker.ts";
import { connectPostgres, type Sql } from "../lib/db/mod.ts";
import { createMemoryLogger } from "../lib/log.ts";
import { makeUser } from "./helpers/app.ts";
import { createTestDatabase, dbTest, type TestDatabase } from "./helpers/db.ts";
import { type FakeResend, startFakeResend } from "./helpers/fake_resend.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";

const APP_URL = "https://jobs.example.com";
const API_KEY = "re_test_secret_key";
const T0 = new Date("2027-03-01T09:00:00Z");

interface Outbox {
  id: string;
  deliveryKey: string;
  channel: string;
  state: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  sentAt: Date | null;
  providerId: string | null;
}

async function outbox(sql: Sql): Promise<Outbox[]> {
  return await sql<Outbox[]>`
    SELECT id::text, delivery_key::text, channel, state, attempts, next_attempt_at, last_error, sent_at, provider_id
    FROM alert_outbox ORDER BY id
  `;
}

/** A failed run of "Weekly Digest Email" and its failure alert, queued by e-mail to ada@ and ops@. */
async function queueFailure(
  db: TestDatabase,
  errorMessage = "SMTP timeout",
  jobId = "digest",
): Promise<string> {
  const [exists] = await db.sql`SELECT 1 FROM job_definitions WHERE id = ${jobId}`;
  if (!exists) await makeJob(db.sql, jobId, { displayName: "Weekly Digest Email" });
  const executionId = await makeExecution(db.sql, {
    jobId,
    startedAt: T0,
    status: "failed",
    durationMs: 1200,
    errorMessage,
  });
  await db.sql.begin((tx) =>
    insertAlerts(
      tx,
      { jobId, jobName: "Weekly Digest Email", snoozedUntil: null },
      [{
        kind: "failure",
        executionId,
        details: { consecutiveFailures: 1, errorMessage, periodKey: "2027-03-01", trigger: "scheduled" },
      }],
      { email: { configured: true, alertTo: ["ops@example.com"] }, webhookHost: null },
      T0,
    )
  );
  return executionId;
}

interface Harness {
  db: TestDatabase;
  fake: FakeResend;
  clock: { now: Date };
  worker(instanceId?: string, sql?: Sql): AlertWorker;
}

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const db = await createTestDatabase();
  const fake = await startFakeResend();
  const clock = { now: T0 };
  const email = createResendChannel({
    apiKey: API_KEY,
    baseUrl: fake.url,
    from: "Jobwatch <jobs@example.com>",
    appUrl: APP_URL,
  });
  try {
    await makeUser(db, { role: "admin", email: "ada@example.com" });
    await fn({
      db,
      fake,
      clock,
      worker: (instanceId = "worker-a", sql = db.sql) =>
        new AlertWorker({
          sql,
          log: createMemoryLogger(),
          now: () => clock.now,
          instanceId,
          channels: { email },
        }),
    });
  } finally {
    await fake.close();
    await db.close();
  }
}

Deno.test({
  name:
    "an alert e-mail goes to the admins and ALERT_TO with the subject, an escaped body and an idempotency key",
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, worker }) => {
      const executionId = await queueFailure(db, "</pre><script>alert(1)</script>");
      assert.equal(await worker().deliverDue(), 1);

      assert.equal(fake.delivered.length, 1);
      const [request] = fake.requests;
      const body = request.body as {
        from: string;
        to: string[];
        subject: string;
        html: string;
        text: string;
      };
      assert.equal(request.path, "/emails");
      assert.equal(request.headers.authorization, `Bearer ${API_KEY}`);
      assert.deepEqual(body.to, ["ada@example.com", "ops@example.com"]);
      assert.equal(body.from, "Jobwatch <jobs@example.com>");
      assert.equal(body.subject, "Job failed: Weekly Digest Email");
      assert.ok(!body.html.includes("<script>alert(1)</script>"), "the error is not markup");
      assert.ok(body.html.includes("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
      assert.ok(body.text.includes(`${APP_URL}/admin/executions/${executionId}`));
      const [row] = await outbox(db.sql);
      assert.equal(request.idempotencyKey, idempotencyKey(row.deliveryKey));
      assert.deepEqual([row.state, row.attempts, row.lastError], ["sent", 1, null]);
      assert.equal(row.sentAt?.getTime(), T0.getTime());
      assert.ok(row.providerId, "Resend's e-mail id is kept");
      assert.equal(await worker().deliverDue(), 0, "a sent row is not sent again");
    }),
});

Deno.test({
  name:
    "500, 500, then 200: exactly one e-mail, after backing off 30 s then 60 s, with the attempts recorded",
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, clock, worker }) => {
      await queueFailure(db);
      fake.respondWith({ status: 500 }, { status: 500 });
      const instance = worker();
      await instance.deliverDue();
      let [row] = await outbox(db.sql);
      assert.deepEqual([row.state, row.attempts], ["pending", 1]);
      assert.match(row.lastError!, /500/);
      assert.equal(row.nextAttemptAt.getTime(), T0.getTime() + FIRST_BACKOFF_MS);

      clock.now = new Date(T0.getTime() + FIRST_BACKOFF_MS - 1);
      assert.equal(await instance.deliverDue(), 0, "not before its time");
      clock.now = new Date(T0.getTime() + FIRST_BACKOFF_MS);
      await instance.deliverDue();
      [row] = await outbox(db.sql);
      assert.deepEqual([row.state, row.attempts], ["pending", 2]);
      assert.equal(row.nextAttemptAt.getTime(), clock.now.getTime() + 2 * FIRST_BACKOFF_MS);

      clock.now = row.nextAttemptAt;
      await instance.deliverDue();
      [row] = await outbox(db.sql);
      assert.deepEqual([row.state, row.attempts, row.lastError], ["sent", 3, null]);
      assert.equal(fake.requests.length, 3);
      assert.equal(fake.delivered.length, 1);
      assert.equal(new Set(fake.requests.map((r) => r.idempotencyKey)).size, 1, "one key on every attempt");
    }),
});

Deno.test({
  name: "a 429 with Retry-After is retried no sooner than it says",
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, clock, worker }) => {
      await queueFailure(db);
      fake.respondWith({ status: 429, headers: { "retry-after": "120" } });
      await worker().deliverDue();
      const [row] = await outbox(db.sql);
      assert.equal(row.state, "pending");
      assert.equal(row.nextAttemptAt.getTime(), T0.getTime() + 120_000);
      clock.now = new Date(T0.getTime() + 119_000);
      assert.equal(await worker().deliverDue(), 0);
      clock.now = new Date(T0.getTime() + 120_000);
      assert.equal(await worker().deliverDue(), 1);
      assert.equal((await outbox(db.sql))[0].state, "sent");
    }),
});

Deno.test({
  name:
    "a permanent error fails at once; errors worth retrying fail after the attempt cap, shown with the reason",
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, clock, worker }) => {
      await queueFailure(db, "first", "digest");
      fake.respondWith({ status: 422 });
      await worker().deliverDue();
      let [row] = await outbox(db.sql);
      assert.deepEqual([row.state, row.attempts], ["failed", 1]);
      assert.match(row.lastError!, /422/);

      await queueFailure(db, "second", "digest");
      fake.respondWith(...Array.from({ length: MAX_ATTEMPTS }, () => ({ status: 503 })));
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        assert.equal(await worker().deliverDue(), 1);
        row = (await outbox(db.sql))[1];
        clock.now = row.nextAttemptAt;
      }
      assert.deepEqual([row.state, row.attempts], ["failed", MAX_ATTEMPTS]);
      assert.match(row.lastError!, new RegExp(`gave up after ${MAX_ATTEMPTS} attempts`));
      assert.ok(!row.lastError!.includes(API_KEY));
      assert.equal(fake.delivered.length, 0);
    }),
});

Deno.test({
  name:
    "a worker that stalls after the send: its lease runs out, another resends with the same key, one e-mail",
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, clock, worker }) => {
      await queueFailure(db);
      let release!: () => void;
      fake.respondWith({ hold: new Promise<void>((resolve) => (release = resolve)) });
      const stalled = worker("worker-a").deliverDue();
      await fake.waitForRequests(1);
      assert.equal((await outbox(db.sql))[0].state, "sending");

      clock.now = new Date(T0.getTime() + LEASE_MS - 1);
      assert.equal(await worker("worker-b").deliverDue(), 0, "the lease holds");
      clock.now = new Date(T0.getTime() + LEASE_MS);
      assert.equal(await worker("worker-b").deliverDue(), 1);
      assert.equal(fake.requests[1].idempotencyKey, fake.requests[0].idempotencyKey);

      release();
      await stalled;
      const [row] = await outbox(db.sql);
      assert.deepEqual(
        [row.state, row.attempts],
        ["sent", 2],
        "the stale worker did not overwrite the newer attempt",
      );
      assert.equal(fake.delivered.length, 1);
    }),
});

Deno.test({
  name: "two workers racing on the outbox (own connections on PostgreSQL) send each alert once",
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, worker }) => {
      for (let i = 0; i < 30; i++) await queueFailure(db, `failure ${i}`, `job-${i % 5}`);
      const other = db.url ? connectPostgres(db.url, { max: 3 }) : null;
      try {
        const [a, b] = await Promise.all([
          worker("worker-a").deliverDue(),
          worker("worker-b", other?.sql ?? db.sql).deliverDue(),
        ]);
        assert.equal(a + b, 30);
      } finally {
        await other?.close();
      }
      assert.equal(fake.requests.length, 30);
      assert.equal(new Set(fake.requests.map((r) => r.idempotencyKey)).size, 30);
      assert.ok((await outbox(db.sql)).every((row) => row.state === "sent" && row.attempts === 1));
    }),
});

Deno.test({
  name: "the webhook gets the alert as JSON with the same outbox, retries and idempotency key",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    const fake = await startFakeResend();
    try {
      await makeJob(db.sql, "digest", { displayName: "Weekly Digest Email" });
      await db.sql.begin((tx) =>
        insertAlerts(
          tx,
          { jobId: "digest", jobName: "Weekly Digest Email", snoozedUntil: null },
          [{
            kind: "overdue",
            executionId: null,
            details: { expectedBy: "2027-03-01T10:06:00.000Z", lastStartedAt: null },
          }],
          { ...UNROUTED.routing, webhookHost: "127.0.0.1" },
          T0,
        )
      );
      const webhook: AlertChannel = createWebhookChannel({ url: `${fake.url}/hook`, appUrl: APP_URL });
      let now = T0;
      const worker = new AlertWorker({
        sql: db.sql,
        log: createMemoryLogger(),
        now: () => now,
        instanceId: "w",
        channels: { webhook },
      });
      fake.respondWith({ status: 503 });
      await worker.deliverDue();
      now = new Date(T0.getTime() + FIRST_BACKOFF_MS);
      await worker.deliverDue();
      const rows = await outbox(db.sql);
      assert.deepEqual(rows.map((r) => [r.channel, r.state, r.attempts]), [["email", "not_sent", 0], [
        "webhook",
        "sent",
        2,
      ]]);
      assert.equal(fake.requests.length, 2);
      const body = fake.requests[1].body as Record<string, unknown>;
      assert.equal(body.kind, "overdue");
      assert.equal(body.subject, "Job overdue: Weekly Digest Email");
      assert.equal(fake.requests[1].idempotencyKey, idempotencyKey(rows[1].deliveryKey));
      assert.equal(fake.requests[0].idempotencyKey, fake.requests[1].idempotencyKey);
    } finally {
      await fake.close();
      await db.close();
    }
  },
});

Deno.test({
  name: "killed (-9) after Resend accepted but before the row was marked: the resend carries the same key",
  ignore: !Deno.env.get("TEST_DATABASE_URL"),
  ...dbTest,
  fn: () =>
    withHarness(async ({ db, fake, clock, worker }) => {
      await queueFailure(db);
      // Resend accepts (records) the e-mail, but the process dies before it hears back.
      fake.respondWith({ hold: new Promise(() => {}) });
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("./helpers/alert_worker_process.ts", import.meta.url).pathname],
        env: {
          DATABASE_URL: db.url!,
          RESEND_BASE_URL: fake.url,
          RESEND_API_KEY: API_KEY,
          JOBWATCH_NOW: T0.toISOString(),
        },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        await fake.waitForRequests(1, 30_000);
      } finally {
        child.kill("SIGKILL");
      }
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
      assert.equal((await outbox(db.sql))[0].state, "sending");

      clock.now = new Date(T0.getTime() + LEASE_MS);
      assert.equal(await worker("after-restart").deliverDue(), 1);
      assert.equal(fake.requests.length, 2);
      assert.equal(fake.requests[1].idempotencyKey, fake.requests[0].idempotencyKey);
      assert.deepEqual(
        fake.requests[1].body,
        fake.requests[0].body,
        "the same e-mail, so Resend can drop it",
      );
      const [row] = await outbox(db.sql);
      assert.deepEqual([row.state, row.attempts], ["sent", 2]);
    }),
});
