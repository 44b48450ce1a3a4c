import assert from "node:assert/strict";
import type { Sql } from "../lib/db/mod.ts";
import { createRegistry } from "../lib/jobs/define.ts";
import { seedDemoData } from "../lib/jobs/examples/demo_data.ts";
import { exampleJobs } from "../lib/jobs/examples/mod.ts";
import { retryPayment, retryPayments, retrySucceeds } from "../lib/jobs/examples/payment_retry.ts";
import { cleanUpSessions, sessionCleanupJob } from "../lib/jobs/examples/session_cleanup.ts";
import { reportUsage } from "../lib/jobs/examples/usage_report.ts";
import { prepareDigests } from "../lib/jobs/examples/weekly_digest.ts";
import { declaredJobs } from "../lib/jobs/mod.ts";
import { toStoredResult } from "../lib/jobs/runner.ts";
import { dbTest } from "./helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from "./helpers/db.ts";
import { makeJobContext } from "./helpers/fixtures.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

async function withDatabase(fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

async function makeSessions(sql: Sql, count: number, expiresAt: Date, prefix: string): Promise<void> {
  const [user] = await sql<{ id: string }[]>`
    INSERT INTO users (email, name, role, password_hash)
    VALUES (${`${prefix}-${crypto.randomUUID().slice(0, 8)}@example.com`}, 'Sam', 'viewer', 'x')
    RETURNING id
  `;
  await sql`
    INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
    SELECT ${prefix} || '-' || g, ${user.id}, ${new Date(expiresAt.getTime() - DAY_MS)},
           ${new Date(expiresAt.getTime() - DAY_MS)}, ${expiresAt}
    FROM generate_series(1, ${count}::int) AS g
  `;
}

async function sessionIds(sql: Sql): Promise<string[]> {
  const rows = await sql<{ idHash: string }[]>`SELECT id_hash FROM sessions ORDER BY id_hash`;
  return rows.map((row) => row.idHash);
}

/** A `sql` that aborts `controller` once its first query has finished. */
function abortingAfterFirstQuery(sql: Sql, controller: AbortController): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const query = Reflect.apply(target, thisArg, args) as Promise<unknown>;
      return query.then((rows) => {
        controller.abort();
        return rows;
      });
    },
  });
}

Deno.test({
  name: "session-cleanup deletes only expired sessions and returns how many",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date();
      await makeSessions(sql, 3, new Date(now.getTime() - HOUR_MS), "expired");
      await makeSessions(sql, 2, new Date(now.getTime() + HOUR_MS), "live");
      const ctx = makeJobContext(sql);
      assert.deepEqual(await sessionCleanupJob.run!(ctx), { deleted: 3 });
      assert.deepEqual(await sessionIds(sql), ["live-1", "live-2"]);
      assert.deepEqual(ctx.lines, ["deleted 3 expired sessions"]);
    }),
});

Deno.test({
  name: "session-cleanup keeps deleting batches of 1000 until no expired session is left",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-01T03:00:00Z");
      await makeSessions(sql, 2500, new Date("2027-02-28T00:00:00Z"), "expired");
      await makeSessions(sql, 1, new Date("2027-03-01T03:00:01Z"), "live");
      assert.deepEqual(await cleanUpSessions(makeJobContext(sql), now), { deleted: 2500 });
      assert.deepEqual(await sessionIds(sql), ["live-1"]);
    }),
});

Deno.test({
  name: "an aborted signal stops session-cleanup between batches: it throws the abort reason",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-01T03:00:00Z");
      await makeSessions(sql, 2500, new Date("2027-02-28T00:00:00Z"), "expired");
      const controller = new AbortController();
      const ctx = makeJobContext(abortingAfterFirstQuery(sql, controller), controller.signal);
      await assert.rejects(() => cleanUpSessions(ctx, now), { name: "AbortError" });
      assert.equal((await sessionIds(sql)).length, 1500, "only the first batch was deleted");
      assert.deepEqual(ctx.lines, ["stopped before all expired sessions were deleted"]);
    }),
});

Deno.test({
  name: "usage-report totals the previous UTC day per workspace and metric",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const events = [
        ["acme", "api_calls", 1.5, "2027-03-01T00:00:00Z"], // first instant of the day counts
        ["acme", "api_calls", 3, "2027-03-01T12:00:00Z"],
        ["acme", "emails_sent", 10, "2027-03-01T23:59:59.999Z"],
        ["globex", "api_calls", 7, "2027-03-01T08:30:00Z"],
        ["acme", "api_calls", 100, "2027-02-28T23:59:59.999Z"], // the day before
        ["acme", "api_calls", 100, "2027-03-02T00:00:00Z"], // today, still running
      ].map(([workspaceId, metric, quantity, at]) => ({
        workspaceId,
        metric,
        quantity,
        occurredAt: new Date(at as string),
      }));
      await sql`INSERT INTO usage_events ${sql(events)}`;
      const ctx = makeJobContext(sql);
      const report = await reportUsage(ctx, new Date("2027-03-02T00:05:00Z"));
      assert.deepEqual(report, { day: "2027-03-01", workspaces: 2, metrics: 2, events: 4 });
      assert.deepEqual(await dailyTotals(sql), [
        "2027-03-01 acme api_calls 4.5 2",
        "2027-03-01 acme emails_sent 10 1",
        "2027-03-01 globex api_calls 7 1",
      ]);
      assert.deepEqual(ctx.lines, ["aggregated 4 usage events for 2027-03-01"]);
    }),
});

async function dailyTotals(sql: Sql): Promise<string[]> {
  const rows = await sql<{ line: string }[]>`
    SELECT concat_ws(' ', day::text, workspace_id, metric, total::text, events::text) AS line
    FROM usage_daily
    ORDER BY day, workspace_id, metric
  `;
  return rows.map((row) => row.line);
}

Deno.test({
  name: "usage-report run twice for one day gives the same totals, and a re-run picks up late events",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-02T00:05:00Z");
      await sql`
        INSERT INTO usage_events (workspace_id, metric, quantity, occurred_at)
        VALUES ('acme', 'api_calls', 2, '2027-03-01T10:00:00Z'),
               ('acme', 'api_calls', 5, '2027-03-01T11:00:00Z')
      `;
      const first = await reportUsage(makeJobContext(sql), now);
      const totals = await dailyTotals(sql);
      assert.deepEqual(await reportUsage(makeJobContext(sql), now), first);
      assert.deepEqual(await dailyTotals(sql), totals);
      assert.deepEqual(totals, ["2027-03-01 acme api_calls 7 2"]);

      await sql`
        INSERT INTO usage_events (workspace_id, metric, quantity, occurred_at)
        VALUES ('acme', 'api_calls', 1, '2027-03-01T23:00:00Z')
      `;
      await reportUsage(makeJobContext(sql), new Date("2027-03-02T09:00:00Z"));
      assert.deepEqual(await dailyTotals(sql), ["2027-03-01 acme api_calls 8 3"]);
    }),
});

Deno.test({
  name: "weekly-digest prepares a digest for active workspaces only and counts their week of usage",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-01T14:00:00Z");
      await sql`
        INSERT INTO demo_workspaces (id, name, owner_email, active, last_digest_at)
        VALUES ('acme', 'Acme', 'a@acme.example', true, '2027-02-22T14:00:00Z'),
               ('globex', 'Globex', 'g@globex.example', true, NULL),
               ('gone', 'Gone', 'x@gone.example', false, NULL)
      `;
      await sql`
        INSERT INTO usage_events (workspace_id, metric, quantity, occurred_at)
        VALUES ('acme', 'api_calls', 1, '2027-02-27T10:00:00Z'),
               ('acme', 'api_calls', 1, '2027-02-28T10:00:00Z'),
               ('acme', 'api_calls', 1, '2027-02-21T10:00:00Z'), -- more than 7 days ago
               ('gone', 'api_calls', 1, '2027-02-28T10:00:00Z')
      `;
      const ctx = makeJobContext(sql);
      assert.deepEqual(await prepareDigests(ctx, now), { sent: 2, skipped: 0 });
      const rows = await sql<{ id: string; lastDigestAt: Date | null }[]>`
        SELECT id, last_digest_at FROM demo_workspaces ORDER BY id
      `;
      assert.deepEqual(rows.map((row) => [row.id, row.lastDigestAt?.toISOString() ?? null]), [
        ["acme", now.toISOString()],
        ["globex", now.toISOString()],
        ["gone", null],
      ]);
      assert.ok(ctx.lines.includes("prepared the digest for acme (2 events this week); no e-mail sent"));
      assert.ok(ctx.lines.includes("prepared the digest for globex (0 events this week); no e-mail sent"));
    }),
});

Deno.test({
  name: "weekly-digest run again in the same week skips the workspaces it already prepared",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      await sql`
        INSERT INTO demo_workspaces (id, name, owner_email, active)
        VALUES ('acme', 'Acme', 'a@acme.example', true), ('globex', 'Globex', 'g@globex.example', true)
      `;
      const monday = new Date("2027-03-01T14:00:00Z");
      assert.deepEqual(await prepareDigests(makeJobContext(sql), monday), { sent: 2, skipped: 0 });
      const retry = new Date(monday.getTime() + HOUR_MS);
      assert.deepEqual(await prepareDigests(makeJobContext(sql), retry), { sent: 0, skipped: 2 });
      const nextMonday = new Date(monday.getTime() + 7 * DAY_MS);
      assert.deepEqual(await prepareDigests(makeJobContext(sql), nextMonday), { sent: 2, skipped: 0 });
    }),
});

/** The first of a fixed series of UUIDs whose retry outcomes match `wanted`. */
function paymentIdWhere(wanted: (id: string) => boolean, skip: string[] = []): string {
  for (let n = 1; n < 10_000; n++) {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    if (!skip.includes(id) && wanted(id)) return id;
  }
  throw new Error("no such payment id in the series");
}

Deno.test("payment-retry's outcome is a pure function of the payment, its attempts and the time", () => {
  const now = new Date("2027-03-01T10:00:00Z");
  const failing = paymentIdWhere((id) => [1, 2, 3, 4].every((attempt) => !retrySucceeds(id, attempt)));
  assert.deepEqual(retryPayment(failing, 0, now), {
    status: "retrying",
    attempts: 1,
    nextAttemptAt: new Date("2027-03-01T11:00:00Z"),
  });
  assert.deepEqual(retryPayment(failing, 2, now).nextAttemptAt, new Date("2027-03-01T14:00:00Z"));
  assert.deepEqual(retryPayment(failing, 3, now), { status: "abandoned", attempts: 4, nextAttemptAt: null });
  const paying = paymentIdWhere((id) => retrySucceeds(id, 1));
  assert.deepEqual(retryPayment(paying, 0, now), { status: "paid", attempts: 1, nextAttemptAt: null });
  assert.equal(retrySucceeds(paying, 1), retrySucceeds(paying, 1));
  const outcomes = Array.from({ length: 200 }, (_, n) => retrySucceeds(`payment-${n}`, 1));
  const paid = outcomes.filter(Boolean).length;
  assert.ok(paid > 60 && paid < 140, `about half succeed, got ${paid} of 200`);
});

Deno.test({
  name: "payment-retry pays, retries or abandons each due payment and never touches paid ones",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-01T10:00:00Z");
      const due = new Date("2027-03-01T09:00:00Z");
      const paying = paymentIdWhere((id) => retrySucceeds(id, 1));
      const failingOnce = paymentIdWhere((id) => !retrySucceeds(id, 1), [paying]);
      const lastChance = paymentIdWhere((id) => !retrySucceeds(id, 4), [paying, failingOnce]);
      const others = [paying, failingOnce, lastChance];
      const paid = paymentIdWhere(() => true, others);
      const abandoned = paymentIdWhere(() => true, [...others, paid]);
      const notYetDue = paymentIdWhere(() => true, [...others, paid, abandoned]);
      const yesterday = new Date("2027-02-28T10:00:00Z");
      await sql`
        INSERT INTO demo_payments (id, workspace_id, amount_cents, status, attempts, next_attempt_at, updated_at)
        VALUES (${paying}, 'acme', 1900, 'failed', 0, ${due}, ${yesterday}),
               (${failingOnce}, 'acme', 2900, 'failed', 0, ${due}, ${yesterday}),
               (${lastChance}, 'globex', 3900, 'retrying', 3, ${due}, ${yesterday}),
               (${paid}, 'globex', 4900, 'paid', 1, ${due}, ${yesterday}),
               (${abandoned}, 'globex', 5900, 'abandoned', 4, ${due}, ${yesterday}),
               (${notYetDue}, 'acme', 6900, 'retrying', 1, '2027-03-01T11:00:00Z', ${yesterday})
      `;
      const ctx = makeJobContext(sql);
      assert.deepEqual(await retryPayments(ctx, now), { retried: 3, paid: 1, abandoned: 1 });
      assert.deepEqual(await payments(sql), {
        [paying]: "paid 1 - 2027-03-01T10:00:00.000Z",
        [failingOnce]: "retrying 1 2027-03-01T11:00:00.000Z 2027-03-01T10:00:00.000Z",
        [lastChance]: "abandoned 4 - 2027-03-01T10:00:00.000Z",
        [paid]: "paid 1 2027-03-01T09:00:00.000Z 2027-02-28T10:00:00.000Z",
        [abandoned]: "abandoned 4 2027-03-01T09:00:00.000Z 2027-02-28T10:00:00.000Z",
        [notYetDue]: "retrying 1 2027-03-01T11:00:00.000Z 2027-02-28T10:00:00.000Z",
      });
      assert.match(ctx.lines.at(-1)!, /retried 3 payments: 1 paid, 1 abandoned \(demo: no payment provider/);
      assert.deepEqual(await retryPayments(makeJobContext(sql), now), { retried: 0, paid: 0, abandoned: 0 });
    }),
});

async function payments(sql: Sql): Promise<Record<string, string>> {
  const rows = await sql<
    { id: string; status: string; attempts: number; nextAttemptAt: Date | null; updatedAt: Date }[]
  >`SELECT id, status, attempts, next_attempt_at, updated_at FROM demo_payments`;
  return Object.fromEntries(rows.map((row) => [
    row.id,
    [row.status, row.attempts, row.nextAttemptAt?.toISOString() ?? "-", row.updatedAt.toISOString()].join(
      " ",
    ),
  ]));
}

Deno.test({
  name: "payment-retry skips a payment another transaction holds locked (FOR UPDATE SKIP LOCKED)",
  ...dbTest,
  // PGlite is a single session: a second transaction cannot hold a lock while the job runs.
  ignore: !TEST_DATABASE_URL,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-01T10:00:00Z");
      const locked = paymentIdWhere(() => true);
      const free = paymentIdWhere(() => true, [locked]);
      await sql`
        INSERT INTO demo_payments (id, workspace_id, amount_cents, status, attempts, next_attempt_at)
        VALUES (${locked}, 'acme', 1900, 'failed', 0, '2027-03-01T09:00:00Z'),
               (${free}, 'acme', 2900, 'failed', 0, '2027-03-01T09:00:00Z')
      `;
      const report = await sql.begin(async (tx) => {
        await tx`SELECT 1 FROM demo_payments WHERE id = ${locked} FOR UPDATE`;
        return await retryPayments(makeJobContext(sql), now);
      });
      assert.equal(report.retried, 1);
      const [row] = await sql<
        { attempts: number }[]
      >`SELECT attempts FROM demo_payments WHERE id = ${locked}`;
      assert.equal(row.attempts, 0, "the locked payment was left to its holder");
    }),
});

Deno.test({
  name: "the demo data is seeded once, within the eight days before now",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      const now = new Date("2027-03-01T12:00:00Z");
      assert.equal(await seedDemoData(sql, now), true);
      assert.equal(await seedDemoData(sql, new Date(now.getTime() + DAY_MS)), false);
      const [counts] = await sql<
        { workspaces: number; active: number; events: number; oldest: Date; newest: Date; open: number }[]
      >`
        SELECT (SELECT count(*)::int FROM demo_workspaces) AS workspaces,
               (SELECT count(*)::int FROM demo_workspaces WHERE active) AS active,
               (SELECT count(*)::int FROM usage_events) AS events,
               (SELECT min(occurred_at) FROM usage_events) AS oldest,
               (SELECT max(occurred_at) FROM usage_events) AS newest,
               (SELECT count(*)::int FROM demo_payments
                WHERE status IN ('failed', 'retrying') AND next_attempt_at <= ${now}) AS open
      `;
      assert.deepEqual([counts.workspaces, counts.active, counts.events, counts.open], [4, 3, 320, 6]);
      assert.ok(counts.oldest.getTime() > now.getTime() - 8 * DAY_MS);
      assert.ok(counts.newest.getTime() < now.getTime());
    }),
});

Deno.test({
  name: "every in-process example returns a JSON result the runner can store, on the demo data",
  ...dbTest,
  fn: () =>
    withDatabase(async ({ sql }) => {
      await seedDemoData(sql, new Date());
      const results: Record<string, unknown> = {};
      for (const job of exampleJobs) {
        if (job.run) results[job.id] = await job.run(makeJobContext(sql));
      }
      for (const [id, result] of Object.entries(results)) {
        assert.deepEqual(toStoredResult(result), result, id);
        assert.ok(
          Object.values(result as object).every((v) => typeof v === "number" || typeof v === "string"),
        );
      }
      assert.deepEqual(Object.keys(results), [
        "session-cleanup",
        "usage-report",
        "weekly-digest",
        "payment-retry",
      ]);
      assert.deepEqual(results["weekly-digest"], { sent: 3, skipped: 0 });
      assert.equal((results["payment-retry"] as { retried: number }).retried, 6);
      assert.ok((results["usage-report"] as { events: number }).events > 0);
    }),
});

Deno.test("declaredJobs always lists the built-in retention job, and the five examples after it only with them on", () => {
  assert.deepEqual(declaredJobs({ examples: false, retentionDays: 90 }).map((job) => job.id), [
    "jobwatch-retention",
  ]);
  const jobs = declaredJobs({ examples: true, retentionDays: 90 });
  assert.deepEqual(jobs.map((job) => job.id), [
    "jobwatch-retention",
    "session-cleanup",
    "usage-report",
    "weekly-digest",
    "payment-retry",
    "nightly-backup",
  ]);
  assert.equal(createRegistry(jobs).size, 6);
  const backup = jobs.find((job) => job.id === "nightly-backup")!;
  assert.equal(backup.external, true);
  assert.equal(backup.run, null);
  assert.ok(jobs.filter((job) => job.id !== "nightly-backup").every((job) => typeof job.run === "function"));
  assert.deepEqual(
    jobs.filter((job) => job.critical).map((job) => [job.id, job.maxAgeHours]),
    [["session-cleanup", 26], ["weekly-digest", 168], ["payment-retry", 2], ["nightly-backup", null]],
  );
});
