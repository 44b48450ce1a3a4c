/**
 * Alerts in the dashboard, in-process: the alerts page (filters, paging,
 * bad input), the Alerts sections of the execution and job pages, and
 * snoozing a job's alerts. Alerts and deliveries are written straight to
 * the tables, as the alerting worker would leave them.
 */
import assert from "node:assert/strict";
import { describeAlertPolicy } from "../lib/alerts/policy_words.ts";
import { DEFAULT_ALERT_POLICY } from "../lib/alerts/policy.ts";
import { parseSnoozeForm } from "../lib/alerts/snooze.ts";
import type { AlertDetails, AlertKind, DeliveryState } from "../lib/alerts/types.ts";
import type { Sql } from "../lib/db/mod.ts";
import { encodeCursor } from "../lib/history.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";

const NOW = new Date("2027-03-08T12:00:00Z");
const SCRIPT = "<script>alert(1)</script>";

interface DeliveryFixture {
  channel?: "email" | "webhook";
  recipients?: string[];
  state: DeliveryState;
  attempts?: number;
  lastError?: string;
  sentAt?: Date;
  nextAttemptAt?: Date;
}

interface AlertFixture {
  jobId: string;
  kind?: AlertKind;
  executionId?: string;
  details?: AlertDetails;
  minutesAgo: number;
  suppressed?: boolean;
  deliveries?: DeliveryFixture[];
}

/** Inserts an alert `minutesAgo` before NOW with its outbox rows; returns its id. */
async function makeAlert(sql: Sql, fixture: AlertFixture): Promise<string> {
  const createdAt = new Date(NOW.getTime() - fixture.minutesAgo * 60_000);
  const [{ id }] = await sql<{ id: string }[]>`
    INSERT INTO alerts (job_id, job_name, execution_id, kind, details, suppressed, created_at)
    VALUES (${fixture.jobId}, (SELECT display_name FROM job_definitions WHERE id = ${fixture.jobId}),
            ${fixture.executionId ?? null}::uuid, ${fixture.kind ?? "failure"},
            ${sql.json((fixture.details ?? { consecutiveFailures: 1 }) as never)}, ${
    fixture.suppressed ?? false
  },
            ${createdAt})
    RETURNING id::text
  `;
  for (const delivery of fixture.deliveries ?? []) {
    await sql`
      INSERT INTO alert_outbox (alert_id, channel, recipients, state, attempts, next_attempt_at, last_attempt_at,
                                last_error, sent_at, created_at)
      VALUES (${id}::bigint, ${delivery.channel ?? "email"},
              ${delivery.recipients ?? ["ada@example.com", "ops@example.com"]}::text[], ${delivery.state},
              ${delivery.attempts ?? 0}, ${delivery.nextAttemptAt ?? createdAt},
              ${delivery.attempts ? createdAt : null}, ${delivery.lastError ?? null}, ${
      delivery.sentAt ?? null
    },
              ${createdAt})
    `;
  }
  return id;
}

interface Fixture {
  t: TestApp;
  admin: string;
  viewer: string;
}

async function withApp(fn: (f: Fixture) => Promise<void>) {
  const t = await createTestApp();
  try {
    t.clock.now = NOW;
    await makeJob(t.db.sql, "digest", { displayName: "Weekly Digest" });
    await makeJob(t.db.sql, "import", { displayName: "Nightly Import" });
    const admin = await t.signIn(await makeUser(t.db, { role: "admin", email: "ada@example.com" }));
    const viewer = await t.signIn(await makeUser(t.db, { role: "viewer" }));
    await fn({ t, admin, viewer });
  } finally {
    await t.close();
  }
}

function get(t: TestApp, path: string, cookie?: string) {
  return t.app.request(path, { headers: { accept: "text/html", ...(cookie ? { cookie } : {}) } });
}

function post(t: TestApp, path: string, cookie: string, fields: Record<string, string> = {}) {
  return t.app.request(path, {
    method: "POST",
    headers: { cookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

/** The alert ids on a page, in order. */
function alertIds(html: string): string[] {
  return [...html.matchAll(/data-testid="alert" data-alert-id="(\d+)"/g)].map((match) => match[1]);
}

async function snoozeRow(sql: Sql, jobId: string) {
  const [row] = await sql<{ snoozedUntil: Date | null; snoozedBy: string | null }[]>`
    SELECT snoozed_until, snoozed_by FROM job_alert_state WHERE job_id = ${jobId}
  `;
  return row;
}

Deno.test("a job's alert policy reads as a sentence", () => {
  assert.equal(
    describeAlertPolicy({
      enabled: true,
      every: 3,
      remindEveryMs: 24 * 3_600_000,
      minDurationMs: 1000,
      maxDurationMs: 600_000,
    }),
    "Alerts on the 1st failure, then every 3rd in a row; reminds every 24 h while failing; " +
      "warns when a run takes under 1 s or over 10 min.",
  );
  assert.equal(describeAlertPolicy({ ...DEFAULT_ALERT_POLICY, every: 1 }), "Alerts on every failure.");
  assert.equal(
    describeAlertPolicy({ ...DEFAULT_ALERT_POLICY, enabled: false }),
    "Alerts are off for this job (alert: false).",
  );
});

Deno.test("the snooze form takes a button's duration or a UTC time, and refuses past or far times", () => {
  assert.deepEqual(parseSnoozeForm({ for: "4h", until: "" }, NOW), {
    ok: true,
    until: new Date("2027-03-08T16:00:00Z"),
  });
  assert.deepEqual(parseSnoozeForm({ until: "2027-03-09T08:30" }, NOW), {
    ok: true,
    until: new Date("2027-03-09T08:30:00Z"),
  });
  assert.equal(parseSnoozeForm({ for: "3w" }, NOW).ok, false);
  assert.match(JSON.stringify(parseSnoozeForm({ until: "2027-03-08T11:00" }, NOW)), /has passed/);
  assert.match(JSON.stringify(parseSnoozeForm({ until: "2027-04-08T12:01" }, NOW)), /at most 30 days/);
  assert.match(JSON.stringify(parseSnoozeForm({ until: "tomorrow" }, NOW)), /"field":"until"/);
});

Deno.test({
  name: "the alerts page lists alerts newest first with their deliveries, recipients and errors",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, viewer }) => {
      const older = await makeAlert(t.db.sql, {
        jobId: "digest",
        minutesAgo: 60,
        details: { consecutiveFailures: 3 },
        deliveries: [
          { state: "failed", attempts: 5, lastError: "Resend answered 422: invalid from address" },
          { channel: "webhook", recipients: ["hooks.example.com"], state: "sent", sentAt: NOW },
        ],
      });
      const newer = await makeAlert(t.db.sql, {
        jobId: "import",
        kind: "recovery",
        minutesAgo: 5,
        details: { consecutiveFailures: 2, downForMs: 3_600_000 },
        deliveries: [{
          state: "pending",
          attempts: 1,
          lastError: "Resend answered 503",
          nextAttemptAt: new Date("2027-03-08T12:05:00Z"),
        }],
      });
      const response = await get(t, "/admin/alerts", viewer);
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.deepEqual(alertIds(html), [newer, older]);
      assert.match(html, /Weekly Digest failed 3 times in a row\./);
      assert.match(html, /Nightly Import recovered after 2 failed runs, down for 1 h\./);
      assert.match(html, />Failure</);
      assert.match(html, />Recovered</);
      assert.match(html, /Failed<\/span> <span[^>]*>to ada@example.com, ops@example.com/);
      assert.match(html, /Resend answered 422: invalid from address/);
      assert.match(html, /Retrying \(attempt 2, next at 2027-03-08 12:05:00 UTC\)/);
      assert.match(html, /Resend answered 503/);
      assert.match(html, /Sent<\/span> <span[^>]*>to hooks.example.com/);
      assert.match(html, /title="2027-03-08 11:55:00 UTC"[^>]*>5 minutes ago</);
      assert.match(html, /data-testid="failed-deliveries"[^>]*>1 delivery failed in the last 7 days/);
      assert.match(html, /aria-current="page"[^>]*>Alerts</);
    }),
});

Deno.test({
  name: "the delivery and job filters show only matching alerts, and page by cursor keeping them",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      const failed: string[] = [];
      for (let i = 1; i <= 3; i++) {
        failed.push(
          await makeAlert(t.db.sql, { jobId: "digest", minutesAgo: i, deliveries: [{ state: "failed" }] }),
        );
        await makeAlert(t.db.sql, { jobId: "digest", minutesAgo: i + 10, deliveries: [{ state: "sent" }] });
      }
      await makeAlert(t.db.sql, { jobId: "import", minutesAgo: 30, deliveries: [{ state: "failed" }] });

      const onlyFailed = await (await get(t, "/admin/alerts?state=failed&jobId=digest", admin)).text();
      assert.deepEqual(alertIds(onlyFailed), failed);
      assert.match(onlyFailed, /<option\s+value="digest" selected/);

      const first = await (await get(t, "/admin/alerts?state=failed&jobId=digest&limit=2", admin)).text();
      assert.deepEqual(alertIds(first), failed.slice(0, 2));
      const older = /href="\/admin\/alerts\?jobId=digest&amp;state=failed&amp;limit=2&amp;after=([\w-]+)"/
        .exec(first)?.[1];
      assert.ok(older, "an Older link that keeps the filters");
      const second =
        await (await get(t, `/admin/alerts?state=failed&jobId=digest&limit=2&after=${older}`, admin))
          .text();
      assert.deepEqual(alertIds(second), failed.slice(2));
      assert.doesNotMatch(second, /rel="next"/);
      const newer = /href="\/admin\/alerts\?jobId=digest&amp;state=failed&amp;limit=2&amp;before=([\w-]+)"/
        .exec(second)?.[1];
      assert.ok(newer, "a Newer link that keeps the filters");
      const back =
        await (await get(t, `/admin/alerts?state=failed&jobId=digest&limit=2&before=${newer}`, admin))
          .text();
      assert.deepEqual(alertIds(back), failed.slice(0, 2));

      const all = await (await get(t, "/admin/alerts?state=all", admin)).text();
      assert.equal(alertIds(all).length, 7);
      const none = await (await get(t, "/admin/alerts?state=suppressed", admin)).text();
      assert.match(none, /No alerts match these filters/);
    }),
});

Deno.test({
  name: "bad filters and forged cursors get the page with a 400 and a message, never a 500",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      await makeAlert(t.db.sql, { jobId: "digest", minutesAgo: 1, deliveries: [{ state: "sent" }] });
      const year0 = encodeCursor({ startedAt: "0000-01-01T00:00:00Z", id: "1" });
      const cases: [string, RegExp][] = [
        ["/admin/alerts?state=exploded", /data-testid="error-state"[^>]*>must be one of all, failed/],
        ["/admin/alerts?after=forged", /is not a valid page cursor/],
        [`/admin/alerts?before=${year0}`, /is not a valid page cursor/],
        [
          `/admin/alerts?after=${encodeCursor({ startedAt: "2027-01-01T00:00:00Z", id: "abc" })}`,
          /page cursor/,
        ],
        ["/admin/alerts?limit=5000", /limit must be at most 100/],
        ["/admin/alerts?jobId=nope", /data-testid="error-jobId"[^>]*>is not a job Jobwatch knows/],
      ];
      for (const [path, message] of cases) {
        const response = await get(t, path, admin);
        assert.equal(response.status, 400, path);
        const html = await response.text();
        assert.match(html, message, path);
        assert.match(html, /Weekly Digest failed\./, `${path} still lists the alerts`);
      }
    }),
});

Deno.test({
  name: "anonymous visitors are sent to sign in, and cannot snooze",
  ...dbTest,
  fn: () =>
    withApp(async ({ t }) => {
      const response = await get(t, "/admin/alerts?state=failed");
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/login?next=%2Fadmin%2Falerts%3Fstate%3Dfailed");
      const snooze = await t.app.request("/admin/jobs/digest/snooze", {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
        body: "for=1h",
      });
      assert.equal(snooze.status, 401);
      assert.equal((await snoozeRow(t.db.sql, "digest")).snoozedUntil, null);
    }),
});

Deno.test({
  name: "an empty alerts page explains how alerting is configured",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      const html = await (await get(t, "/admin/alerts", admin)).text();
      for (const name of ["RESEND_API_KEY", "ALERT_FROM", "ALERT_TO", "ALERT_WEBHOOK_URL"]) {
        assert.match(html, new RegExp(name));
      }
    }),
});

Deno.test({
  name: "the execution page shows the alerts its run raised, or says there were none",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, viewer }) => {
      const failedRun = await makeExecution(t.db.sql, {
        jobId: "digest",
        startedAt: new Date(NOW.getTime() - 600_000),
        status: "failed",
        durationMs: 1000,
        errorMessage: "SMTP down",
      });
      const quietRun = await makeExecution(t.db.sql, { jobId: "digest", startedAt: NOW, durationMs: 10 });
      const alert = await makeAlert(t.db.sql, {
        jobId: "digest",
        executionId: failedRun,
        minutesAgo: 9,
        deliveries: [{ state: "not_sent", lastError: "RESEND_API_KEY is not set" }],
      });
      await makeAlert(t.db.sql, { jobId: "digest", minutesAgo: 8, kind: "overdue", details: {} });
      const html = await (await get(t, `/admin/executions/${failedRun}`, viewer)).text();
      assert.deepEqual(alertIds(html), [alert]);
      assert.match(html, /Not sent/);
      assert.match(html, /RESEND_API_KEY is not set/);
      const quiet = await (await get(t, `/admin/executions/${quietRun}`, viewer)).text();
      assert.match(quiet, /No alerts were raised for this run\./);
    }),
});

Deno.test({
  name: "the job page shows the policy in words, the current state and the latest alerts",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, viewer }) => {
      await t.db.sql`
        UPDATE job_definitions
        SET alert_policy = ${t.db.sql.json({ every: 2, remindEveryMs: 86_400_000, maxDurationMs: 600_000 })}
        WHERE id = 'digest'
      `;
      await t.db.sql`
        UPDATE job_alert_state SET consecutive_failures = 4, failing_since = ${new Date(
        "2027-03-08T09:00:00Z",
      )}
        WHERE job_id = 'digest'
      `;
      await t.db.sql`UPDATE job_definitions SET alert_policy = '{"enabled": false}' WHERE id = 'import'`;
      const alert = await makeAlert(t.db.sql, {
        jobId: "digest",
        minutesAgo: 3,
        deliveries: [{ state: "sent" }],
      });
      await makeAlert(t.db.sql, { jobId: "import", minutesAgo: 2 });

      const html = await (await get(t, "/admin/jobs/digest", viewer)).text();
      assert.match(
        html,
        /Alerts on the 1st failure, then every 2nd in a row; reminds every 24 h while failing; warns when a run takes over 10 min\./,
      );
      assert.match(html, /Failing: 4 runs in a row, since <time[^>]*>3 hours ago/);
      assert.match(html, /Not snoozed/);
      assert.deepEqual(alertIds(html), [alert]);
      assert.match(html, /href="\/admin\/alerts\?jobId=digest"[^>]*>All alerts for this job/);
      // Viewers see the state but get no forms.
      assert.doesNotMatch(html, /action="\/admin\/jobs\/digest\/snooze"/);

      const off = await (await get(t, "/admin/jobs/import", viewer)).text();
      assert.match(off, /Alerts are off for this job \(alert: false\)\./);
      assert.match(off, /data-testid="alert-state"><li[^>]*>OK</);
    }),
});

Deno.test({
  name: "an admin snoozes a job's alerts, audited, and unsnoozes them",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      const form = await (await get(t, "/admin/jobs/digest", admin)).text();
      assert.match(form, /action="\/admin\/jobs\/digest\/snooze"/);
      const snoozed = await post(t, "/admin/jobs/digest/snooze", admin, { for: "4h" });
      assert.equal(snoozed.status, 303);
      assert.equal(snoozed.headers.get("location"), "/admin/jobs/digest#alerts");
      const row = await snoozeRow(t.db.sql, "digest");
      assert.deepEqual(row, { snoozedUntil: new Date("2027-03-08T16:00:00Z"), snoozedBy: "ada@example.com" });
      const html = await (await get(t, "/admin/jobs/digest", admin)).text();
      assert.match(
        html,
        /Snoozed until <time[^>]*>2027-03-08 16:00:00 UTC<\/time><span[^>]*>by ada@example.com/,
      );
      assert.match(html, /action="\/admin\/jobs\/digest\/unsnooze"/);

      const custom = await post(t, "/admin/jobs/digest/snooze", admin, { until: "2027-03-10T08:30" });
      assert.equal(custom.status, 303);
      assert.deepEqual((await snoozeRow(t.db.sql, "digest")).snoozedUntil, new Date("2027-03-10T08:30:00Z"));

      assert.equal((await post(t, "/admin/jobs/digest/unsnooze", admin)).status, 303);
      assert.deepEqual(await snoozeRow(t.db.sql, "digest"), { snoozedUntil: null, snoozedBy: null });
      assert.match(await (await get(t, "/admin/jobs/digest", admin)).text(), /Not snoozed/);

      const events = await t.db.sql<
        { action: string; targetId: string; actorEmail: string; metadata: unknown }[]
      >`
        SELECT action, target_id, actor_email, metadata FROM audit_events WHERE action LIKE 'job.alerts_%' ORDER BY id
      `;
      assert.deepEqual([...events], [
        {
          action: "job.alerts_snoozed",
          targetId: "digest",
          actorEmail: "ada@example.com",
          metadata: { until: "2027-03-08T16:00:00.000Z" },
        },
        {
          action: "job.alerts_snoozed",
          targetId: "digest",
          actorEmail: "ada@example.com",
          metadata: { until: "2027-03-10T08:30:00.000Z" },
        },
        {
          action: "job.alerts_unsnoozed",
          targetId: "digest",
          actorEmail: "ada@example.com",
          metadata: { until: "2027-03-10T08:30:00.000Z" },
        },
      ]);
      assert.equal((await post(t, "/admin/jobs/nope/snooze", admin, { for: "1h" })).status, 404);
    }),
});

Deno.test({
  name: "viewers see a snooze but cannot change it",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin, viewer }) => {
      await post(t, "/admin/jobs/digest/snooze", admin, { for: "1h" });
      const html = await (await get(t, "/admin/jobs/digest", viewer)).text();
      assert.match(html, /Snoozed until/);
      assert.doesNotMatch(html, /unsnooze/);
      const before = await snoozeRow(t.db.sql, "digest");
      assert.equal((await post(t, "/admin/jobs/digest/unsnooze", viewer)).status, 403);
      assert.equal((await post(t, "/admin/jobs/import/snooze", viewer, { for: "1h" })).status, 403);
      assert.deepEqual(await snoozeRow(t.db.sql, "digest"), before);
      assert.equal((await snoozeRow(t.db.sql, "import")).snoozedUntil, null);
      const [{ count }] = await t.db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM audit_events WHERE action LIKE 'job.alerts_%'
      `;
      assert.equal(count, 1);
    }),
});

Deno.test({
  name: "a snooze in the past, more than 30 days ahead or unreadable is refused by its field with a 400",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      const cases: [Record<string, string>, RegExp][] = [
        [{ until: "2027-03-08T11:59" }, /Choose a time in the future: 2027-03-08 11:59:00 UTC has passed\./],
        [{ until: "2027-04-08T12:00" }, /A snooze lasts at most 30 days/],
        [{ until: "next tuesday" }, /Enter the date and time as/],
        [{ until: "" }, /Choose a date and time to snooze until\./],
        [{ for: "forever" }, /Snooze for one of 1h, 4h, 24h, 7d\./],
      ];
      for (const [fields, message] of cases) {
        const response = await post(t, "/admin/jobs/digest/snooze", admin, fields);
        assert.equal(response.status, 400, JSON.stringify(fields));
        const html = await response.text();
        assert.match(html, /data-testid="error-snooze-(until|for)"[^>]*>/);
        assert.match(html, message);
        assert.match(html, /<h1[^>]*>Weekly Digest<\/h1>/, "the job page itself, not an error page");
      }
      assert.equal((await snoozeRow(t.db.sql, "digest")).snoozedUntil, null);
      const [{ count }] = await t.db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM audit_events WHERE action LIKE 'job.alerts_%'
      `;
      assert.equal(count, 0);
    }),
});

Deno.test({
  name: "delivery errors and job names are rendered as text on every alerts list",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      await makeJob(t.db.sql, "hostile", { displayName: "<b>Bold</b> job" });
      const run = await makeExecution(t.db.sql, {
        jobId: "hostile",
        startedAt: NOW,
        status: "failed",
        durationMs: 1,
      });
      await makeAlert(t.db.sql, {
        jobId: "hostile",
        executionId: run,
        minutesAgo: 1,
        details: { consecutiveFailures: 1, errorMessage: SCRIPT },
        deliveries: [{ state: "failed", recipients: [`${SCRIPT}@example.com`], lastError: SCRIPT }],
      });
      for (const path of ["/admin/alerts", "/admin/jobs/hostile", `/admin/executions/${run}`]) {
        const html = await (await get(t, path, admin)).text();
        assert.ok(!html.includes(SCRIPT), `${path} contains the raw script`);
        assert.ok(!html.includes("<b>Bold</b>"), `${path} contains the raw job name`);
        assert.ok(
          html.includes("&lt;script>alert(1)&lt;/script>"),
          `${path} does not show the error as text`,
        );
        assert.ok(html.includes("&lt;b>Bold&lt;/b> job"), `${path} does not show the name as text`);
      }
    }),
});
