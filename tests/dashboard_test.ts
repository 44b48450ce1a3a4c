/**
 * The dashboard's pages and JSON list, in-process: what the cards say, how
 * filters and bad input are answered, the job page, run tokens, the audit
 * log and the execution permalink.
 */
import assert from "node:assert/strict";
import { encodeCursor } from "../lib/history.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";
import { type ExecutionFixture, makeExecution } from "./helpers/fixtures.ts";

const HOSTILE = `<img src=x onerror=alert(1)>`;

const jobs = [
  defineJob({
    id: "digest",
    displayName: "Weekly Digest",
    description: "Sends the weekly e-mail",
    schedule: "cron(0 9 ? * MON *)",
    timezone: "America/New_York",
    run: () => ({ sent: 42, failed: 3 }),
  }),
  defineJob({ id: "flaky", displayName: "Flaky Import", schedule: "rate(1 hour)", run: () => null }),
  defineJob({
    id: "paused",
    displayName: "Paused Job",
    schedule: "rate(1 hour)",
    enabled: false,
    run: () => null,
  }),
  defineJob({ id: "backup", displayName: "Nightly Backup", schedule: "0 3 * * *", external: true }),
];

interface Fixture {
  t: TestApp;
  admin: string;
  viewer: string;
}

async function withApp(fn: (f: Fixture) => Promise<void>) {
  const t = await createTestApp({ jobs });
  try {
    t.clock.now = new Date("2027-03-08T12:00:00Z");
    const admin = await t.signIn(await makeUser(t.db, { role: "admin", name: "Ada" }));
    const viewer = await t.signIn(await makeUser(t.db, { role: "viewer" }));
    await fn({ t, admin, viewer });
  } finally {
    await t.close();
  }
}

type RecentExecution = Omit<ExecutionFixture, "startedAt" | "status"> & {
  minutesAgo: number;
  status?: "completed" | "failed" | "skipped";
};

/** A finished execution `minutesAgo` before the app's clock, one second long unless told. */
function makeRecentExecution(
  t: TestApp,
  { minutesAgo, durationMs = 1000, ...fixture }: RecentExecution,
): Promise<string> {
  const startedAt = new Date(t.clock.now.getTime() - minutesAgo * 60_000);
  return makeExecution(t.db.sql, { ...fixture, startedAt, durationMs });
}

function get(t: TestApp, path: string, cookie: string, accept = "text/html") {
  return t.app.request(path, { headers: { cookie, accept } });
}

function cardOf(html: string, jobId: string): string {
  const start = html.indexOf(`data-job-id="${jobId}"`);
  assert.ok(start >= 0, `no card for ${jobId}`);
  const end = html.indexOf("</article>", start);
  return html.slice(start, end);
}

Deno.test({
  name: "the dashboard shows each job's schedule, last run and 24-hour figures, failing jobs marked",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      for (const [minutesAgo, durationMs] of [[30, 1000], [90, 2000], [150, 3000], [60 * 30, 9000]]) {
        await makeRecentExecution(t, { jobId: "digest", minutesAgo, durationMs, result: { sent: 42 } });
      }
      await makeRecentExecution(t, { jobId: "flaky", minutesAgo: 120, durationMs: 500 });
      await makeRecentExecution(t, {
        jobId: "flaky",
        minutesAgo: 10,
        status: "failed",
        errorMessage: "upstream timed out",
      });
      const response = await get(t, "/admin/jobs", admin);
      assert.equal(response.status, 200);
      const html = await response.text();

      const digest = cardOf(html, "digest");
      assert.match(digest, /Weekly Digest/);
      assert.match(digest, /Sends the weekly e-mail/);
      assert.match(digest, /Every Monday at 09:00/);
      assert.match(digest, /cron\(0 9 \? \* MON \*\) · America\/New_York/);
      // 2027-03-08 is a Monday: the next run is today at 09:00 EST, 14:00 UTC.
      assert.match(digest, /title="2027-03-08 14:00:00 UTC"[^>]*>in 2 hours</);
      assert.match(digest, /30 minutes ago · 1 s/);
      // Three runs in the last 24 hours (the 30-hour-old one is outside), none failed.
      const figures = digest.slice(digest.indexOf('data-testid="day-figures"'));
      assert.match(figures, /Runs<\/dt><dd[^>]*>3</);
      assert.match(figures, /Failed<\/dt><dd[^>]*>0</);
      assert.match(figures, /100 %/);
      assert.match(figures, /Avg<\/dt><dd[^>]*>2 s</);
      assert.doesNotMatch(digest, /data-testid="failing"/);

      const flaky = cardOf(html, "flaky");
      assert.match(flaky, /data-testid="failing"/);
      assert.match(flaky, /upstream timed out/);
      assert.match(flaky, /50 %/);
      // Failing jobs come first.
      assert.ok(html.indexOf('data-job-id="flaky"') < html.indexOf('data-job-id="digest"'));
      // Disabled jobs are shown apart.
      assert.ok(html.indexOf('id="disabled-heading"') < html.indexOf('data-job-id="paused"'));
      assert.match(html, /1 failing/);
    }),
});

Deno.test({
  name: "Run now is disabled, with the reason, for viewers, disabled jobs and external jobs",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin, viewer }) => {
      const adminHtml = await (await get(t, "/admin/jobs", admin)).text();
      assert.match(cardOf(adminHtml, "paused"), /This job is disabled; enable it to run it\./);
      assert.match(cardOf(adminHtml, "backup"), /runs outside Jobwatch/);
      assert.doesNotMatch(cardOf(adminHtml, "digest"), /disabledReason&quot;:&quot;/);
      const viewerHtml = await (await get(t, "/admin/jobs", viewer)).text();
      assert.match(cardOf(viewerHtml, "digest"), /Viewers have read-only access/);
      // No enable/disable toggle for viewers.
      assert.doesNotMatch(viewerHtml, /data-island="JobToggle"/);
      assert.match(adminHtml, /data-island="JobToggle"/);
    }),
});

Deno.test({
  name: "user-supplied text is escaped on the dashboard, the job page and the permalink",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      await t.db.sql`UPDATE job_definitions SET description = ${HOSTILE} WHERE id = 'flaky'`;
      const id = await makeRecentExecution(t, {
        jobId: "flaky",
        minutesAgo: 5,
        status: "failed",
        errorMessage: HOSTILE,
        result: { [HOSTILE]: 1 },
      });
      for (const path of ["/admin/jobs", "/admin/jobs/flaky", `/admin/executions/${id}`]) {
        const html = await (await get(t, path, admin)).text();
        assert.ok(!html.includes(HOSTILE), `${path} contains the raw payload`);
        // Preact escapes `<`, `&` and `"`; a `>` without a raw `<` cannot open a tag.
        assert.ok(html.includes("&lt;img src=x onerror=alert(1)>"), `${path} does not show it as text`);
      }
    }),
});

Deno.test({
  name: "an invalid filter renders the page with a message by the field; the JSON API answers 400",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      await makeRecentExecution(t, { jobId: "digest", minutesAgo: 5 });
      const page = await get(t, "/admin/jobs?status=exploded&limit=500&from=yesterday", admin);
      assert.equal(page.status, 400);
      const html = await page.text();
      assert.match(
        html,
        /data-testid="error-status"[^>]*>must be one of running, completed, failed, skipped/,
      );
      assert.match(html, /data-testid="error-limit"[^>]*>must be at most 100/);
      assert.match(html, /data-testid="error-from"[^>]*>must be an ISO date and time/);
      // The history is still shown, without the bad filters.
      assert.match(html, /Weekly Digest/);

      const api = await get(t, "/api/admin/jobs?status=exploded", admin, "application/json");
      assert.equal(api.status, 400);
      const body = await api.json();
      assert.match(body.error, /status must be one of/);
      assert.deepEqual(body.issues.map((issue: { field: string }) => issue.field), ["status"]);

      const forged = await get(t, "/admin/jobs?after=not-a-cursor", admin);
      assert.equal(forged.status, 400);
      assert.match(await forged.text(), /is not a valid page cursor/);
    }),
});

Deno.test({
  name: "the JSON API lists executions with definitions and pages through them by cursor",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, viewer }) => {
      for (let i = 1; i <= 5; i++) await makeRecentExecution(t, { jobId: "digest", minutesAgo: i });
      await makeRecentExecution(t, { jobId: "flaky", minutesAgo: 6, status: "failed", errorMessage: "boom" });
      const first = await (await get(t, "/api/admin/jobs?limit=2&jobId=digest", viewer, "application/json"))
        .json();
      assert.equal(first.executions.length, 2);
      assert.equal(first.pagination.total, 5);
      assert.equal(first.pagination.totalEstimated, false);
      assert.equal(first.pagination.prevCursor, null);
      assert.ok(first.definitions.some((d: { id: string }) => d.id === "backup"));
      const seen = first.executions.map((e: { id: string }) => e.id);
      let cursor = first.pagination.nextCursor;
      while (cursor) {
        const next = await (await get(t, `/api/admin/jobs?limit=2&jobId=digest&after=${cursor}`, viewer))
          .json();
        seen.push(...next.executions.map((e: { id: string }) => e.id));
        cursor = next.pagination.nextCursor;
      }
      assert.equal(new Set(seen).size, 5);
      const failed = await (await get(t, "/api/admin/jobs?status=failed", viewer)).json();
      assert.deepEqual(failed.executions.map((e: { jobId: string }) => e.jobId), ["flaky"]);
    }),
});

Deno.test({
  name: "the job page shows the definition, next runs, charts and only this job's history",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      await makeRecentExecution(t, { jobId: "digest", minutesAgo: 60, result: { sent: 42, failed: 3 } });
      await makeRecentExecution(t, { jobId: "flaky", minutesAgo: 30 });
      const response = await get(t, "/admin/jobs/digest", admin);
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.match(html, /<h1[^>]*>Weekly Digest<\/h1>/);
      assert.match(html, /300 s/); // timeout
      assert.match(html, /America\/New_York/);
      // The next runs: today 09:00 EST, then 09:00 EDT after the change on 2027-03-14.
      assert.match(html, /2027-03-08 14:00 UTC[\s\S]*2027-03-15 13:00 UTC/);
      assert.match(html, /<svg/);
      assert.match(html, /sent/);
      assert.doesNotMatch(html.slice(html.indexOf('id="history-heading"')), /Flaky Import/);
      assert.equal((await get(t, "/admin/jobs/nope", admin)).status, 404);
    }),
});

Deno.test({
  name: "an admin creates a run token on an external job's page, shown once and audited; viewers cannot",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin, viewer }) => {
      const post = (path: string, cookie: string, body: Record<string, string>) =>
        t.app.request(path, {
          method: "POST",
          headers: { cookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(body),
        });
      const created = await post("/admin/jobs/backup/tokens", admin, { label: "lambda <prod>" });
      assert.equal(created.status, 200);
      const html = await created.text();
      const token = /jw_[A-Za-z0-9_-]{43}/.exec(html)?.[0];
      assert.ok(token, "the new token is shown");
      assert.match(html, /lambda &lt;prod>/);
      const report = await t.app.request("/api/runs/backup", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ status: "completed" }),
      });
      assert.equal(report.status, 201);
      const again = await (await get(t, "/admin/jobs/backup", admin)).text();
      assert.ok(!again.includes(token), "the token is shown only once");

      assert.equal((await post("/admin/jobs/backup/tokens", viewer, { label: "x" })).status, 403);
      assert.equal((await post("/admin/jobs/digest/tokens", admin, { label: "x" })).status, 400);

      const [{ id }] = await t.db.sql<{ id: string }[]>`SELECT id FROM job_tokens WHERE job_id = 'backup'`;
      assert.equal((await post(`/admin/jobs/backup/tokens/${id}/revoke`, viewer, {})).status, 403);
      const revoked = await post(`/admin/jobs/backup/tokens/${id}/revoke`, admin, {});
      assert.equal(revoked.status, 303);
      assert.equal((await post(`/admin/jobs/digest/tokens/${id}/revoke`, admin, {})).status, 404);
      const actions = await t.db.sql<{ action: string }[]>`
        SELECT action FROM audit_events WHERE action LIKE 'token.%' ORDER BY id
      `;
      assert.deepEqual(actions.map((a) => a.action), ["token.created", "token.revoked"]);
    }),
});

Deno.test({
  name: "the audit log lists who did what, newest first, and pages by cursor",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      const triggered = await t.app.request("/api/admin/jobs/digest/trigger", {
        method: "POST",
        headers: { cookie: admin, origin: ORIGIN },
      });
      assert.equal(triggered.status, 202);
      await t.deps.jobs.runner.settle();
      const html = await (await get(t, "/admin/audit?limit=1", admin)).text();
      assert.match(html, /Ran a job now/);
      assert.match(html, /href="\/admin\/jobs\/digest"/);
      const next = /href="\/admin\/audit\?after=([A-Za-z0-9_-]+)&amp;limit=1"/.exec(html)?.[1];
      assert.ok(next, "a link to older events");
      const older = await (await get(t, `/admin/audit?after=${next}&limit=1`, admin)).text();
      assert.match(older, /Signed in/);
      assert.equal((await get(t, "/admin/audit?after=forged", admin)).status, 400);
      assert.equal((await get(t, "/admin/audit?limit=-1", admin)).status, 400);
    }),
});

Deno.test({
  name: "the execution permalink shows one run in full, and answers 404 for unknown ids",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, viewer }) => {
      const id = await makeRecentExecution(t, {
        jobId: "flaky",
        minutesAgo: 3,
        status: "failed",
        errorMessage: "upstream timed out",
        result: { partial: 7 },
      });
      const html = await (await get(t, `/admin/executions/${id}`, viewer)).text();
      assert.match(html, /Flaky Import/);
      assert.match(html, /upstream timed out/);
      assert.match(html, /&quot;partial&quot;: 7|"partial": 7/);
      assert.equal((await get(t, "/admin/executions/not-a-uuid", viewer)).status, 404);
      assert.equal((await get(t, `/admin/executions/${crypto.randomUUID()}`, viewer)).status, 404);
    }),
});

Deno.test({
  name: "NUL bytes and dates PostgreSQL cannot store get a 400 that says so, never a 500",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      const year0 = encodeCursor({ startedAt: "0000-01-01T00:00:00Z", id: crypto.randomUUID() });
      const gets = [
        "/admin/jobs?jobId=a%00b",
        "/admin/jobs/a%00",
        "/api/admin/jobs?jobId=%00",
        "/admin/jobs?from=0000-01-01T00:00:00Z",
        "/api/admin/jobs?to=9999-12-31T23:59:59-14:00",
        `/admin/jobs?after=${year0}`,
        `/admin/jobs/digest?before=${year0}`,
        `/admin/audit?after=${encodeCursor({ startedAt: "0000-01-01T00:00:00Z", id: "1" })}`,
      ];
      for (const path of gets) {
        const response = await get(t, path, admin);
        assert.equal(response.status, 400, path);
        assert.match(
          await response.text(),
          /NUL|between the years 0001 and 9999|not a valid page cursor/,
          path,
        );
      }
      const post = (path: string, body: string, type: string) =>
        t.app.request(path, {
          method: "POST",
          headers: { cookie: admin, origin: ORIGIN, "content-type": type },
          body,
        });
      for (
        const [path, body, type] of [
          ["/api/admin/jobs/a%00/trigger", "", "application/json"],
          ["/api/admin/jobs/a%00/enabled", '{"enabled":false}', "application/json"],
          ["/admin/jobs/%00/tokens", "label=x", "application/x-www-form-urlencoded"],
          ["/admin/jobs/backup/tokens", "label=a%00b", "application/x-www-form-urlencoded"],
        ]
      ) {
        const response = await post(path, body, type);
        assert.equal(response.status, 400, path);
      }
      const [{ count }] = await t.db.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM job_tokens`;
      assert.equal(count, 0, "a refused request wrote a token");
    }),
});

Deno.test({
  name: "the newest page is live however it was reached, and older pages are not",
  ...dbTest,
  fn: () =>
    withApp(async ({ t, admin }) => {
      for (let i = 1; i <= 5; i++) await makeRecentExecution(t, { jobId: "digest", minutesAgo: i });
      const liveOf = (html: string) => /&quot;live&quot;:(true|false)/.exec(html)?.[1];
      const first = await (await get(t, "/admin/jobs?limit=2", admin)).text();
      assert.equal(liveOf(first), "true");
      const older = /href="\/admin\/jobs\?limit=2&amp;after=([A-Za-z0-9_-]+)"/.exec(first)?.[1];
      assert.ok(older, "a link to older runs");
      const second = await (await get(t, `/admin/jobs?limit=2&after=${older}`, admin)).text();
      assert.equal(liveOf(second), "false");
      const newer = /href="\/admin\/jobs\?limit=2&amp;before=([A-Za-z0-9_-]+)"/.exec(second)?.[1];
      assert.ok(newer, "a link back to newer runs");
      const back = await (await get(t, `/admin/jobs?limit=2&before=${newer}`, admin)).text();
      assert.equal(liveOf(back), "true", "back on the newest page, the history is live again");
    }),
});

Deno.test({
  name: "a busy dashboard reuses one render per second, and a run or another viewer gets a fresh one",
  ...dbTest,
  fn: async () => {
    const t = await createTestApp({ jobs, dashboardCacheMs: 60_000 });
    try {
      t.clock.now = new Date("2027-03-08T12:00:00.250Z");
      const admin = await t.signIn(await makeUser(t.db, { role: "admin", name: "Ada" }));
      const viewer = await t.signIn(await makeUser(t.db, { role: "viewer", name: "Vic" }));
      const page = async (cookie: string) => {
        const response = await t.app.request("/admin/jobs", { headers: { cookie } });
        assert.equal(response.status, 200);
        return await response.text();
      };
      const first = await page(admin);
      t.clock.advance(500);
      assert.equal(await page(admin), first, "the same data in the same second: the same page");
      assert.equal(t.deps.dashboard!.loads, 2, "one read of the summaries and one of the history");

      const forViewer = await page(viewer);
      assert.match(forViewer, /Vic/);
      assert.doesNotMatch(forViewer, /Ada/, "a render is never shared between users");

      const id = await makeRecentExecution(t, { jobId: "flaky", minutesAgo: 0, status: "failed" });
      t.deps.jobs.bus.emit({ executionId: id, jobId: "flaky", status: "failed", instanceId: "other" });
      const afterRun = await page(admin);
      assert.notEqual(afterRun, first);
      assert.match(afterRun, /Failing: the last run failed/, "the run shows as soon as its event arrives");

      t.clock.advance(1_000);
      const nextSecond = await page(admin);
      assert.equal(t.deps.dashboard!.loads, 4, "a new second re-renders from the kept reads");
      assert.notEqual(nextSecond, afterRun, "relative times move on");
    } finally {
      await t.close();
    }
  },
});
