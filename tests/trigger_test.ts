import assert from "node:assert/strict";
import { defineJob } from "../lib/jobs/define.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";

let failNext = true;
const jobs = [
  defineJob({ id: "digest", displayName: "Digest", schedule: "rate(1 hour)", run: () => ({ sent: 42 }) }),
  defineJob({
    id: "flaky",
    displayName: "Flaky",
    schedule: "rate(1 hour)",
    run: () => {
      if (failNext) throw new Error("upstream timed out");
      return { ok: true };
    },
  }),
  defineJob({
    id: "paused",
    displayName: "Paused",
    schedule: "rate(1 hour)",
    enabled: false,
    run: () => null,
  }),
  defineJob({ id: "backup", displayName: "Backup", schedule: "rate(1 day)", external: true }),
];

async function withApp(fn: (t: TestApp, admin: string, viewer: string) => Promise<void>) {
  const t = await createTestApp({ jobs });
  try {
    const admin = await t.signIn(await makeUser(t.db, { role: "admin", name: "Ada" }));
    const viewer = await t.signIn(await makeUser(t.db, { role: "viewer" }));
    await fn(t, admin, viewer);
  } finally {
    await t.close();
  }
}

function post(t: TestApp, path: string, cookie: string, body?: unknown) {
  return t.app.request(path, {
    method: "POST",
    headers: {
      cookie,
      origin: ORIGIN,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

Deno.test({
  name: "Run now answers 202 at once, runs the job in-process as a manual run, and audits it",
  ...dbTest,
  fn: () =>
    withApp(async (t, admin) => {
      const response = await post(t, "/api/admin/jobs/digest/trigger", admin);
      assert.equal(response.status, 202);
      const { executionId, status } = await response.json();
      assert.equal(status, "triggered");
      await t.deps.jobs.runner.settle();
      const [row] = await t.db.sql<
        { status: string; trigger: string; triggeredBy: string; result: unknown }[]
      >`
        SELECT status, trigger, triggered_by, result FROM job_executions WHERE id = ${executionId}
      `;
      assert.equal(row.status, "completed");
      assert.equal(row.trigger, "manual");
      assert.deepEqual(row.result, { sent: 42 });
      const [audit] = await t.db.sql<
        { actorEmail: string; targetId: string; metadata: { executionId: string } }[]
      >`
        SELECT actor_email, target_id, metadata FROM audit_events WHERE action = 'job.triggered'
      `;
      assert.equal(audit.targetId, "digest");
      assert.equal(audit.metadata.executionId, executionId);
      assert.equal(row.triggeredBy, (await t.db.sql`SELECT id FROM users WHERE name = 'Ada'`)[0].id);
    }),
});

Deno.test({
  name: "Run now refuses unknown (404), disabled (400) and external (400) jobs, and viewers (403)",
  ...dbTest,
  fn: () =>
    withApp(async (t, admin, viewer) => {
      const unknown = await post(t, "/api/admin/jobs/nope/trigger", admin);
      assert.equal(unknown.status, 404);
      assert.match((await unknown.json()).error, /no job "nope"/);
      const disabled = await post(t, "/api/admin/jobs/paused/trigger", admin);
      assert.equal(disabled.status, 400);
      assert.match((await disabled.json()).error, /disabled/);
      const external = await post(t, "/api/admin/jobs/backup/trigger", admin);
      assert.equal(external.status, 400);
      assert.match((await external.json()).error, /runs outside Jobwatch/);
      assert.equal((await post(t, "/api/admin/jobs/digest/trigger", viewer)).status, 403);
      const [{ count }] = await t.db.sql<
        { count: number }[]
      >`SELECT count(*)::int AS count FROM job_executions`;
      assert.equal(count, 0, "nothing was recorded");
    }),
});

Deno.test({
  name: "Retry reruns a failed run linked by retry_of, and refuses runs that did not fail",
  ...dbTest,
  fn: () =>
    withApp(async (t, admin) => {
      failNext = true;
      const first = (await (await post(t, "/api/admin/jobs/flaky/trigger", admin)).json()).executionId;
      await t.deps.jobs.runner.settle();
      failNext = false;
      const retry = await post(t, `/api/admin/executions/${first}/retry`, admin);
      assert.equal(retry.status, 202);
      const { executionId, retryOf } = await retry.json();
      assert.equal(retryOf, first);
      await t.deps.jobs.runner.settle();
      const [row] = await t.db.sql<{ status: string; retryOf: string }[]>`
        SELECT status, retry_of FROM job_executions WHERE id = ${executionId}
      `;
      assert.deepEqual(row, { status: "completed", retryOf: first });
      const again = await post(t, `/api/admin/executions/${executionId}/retry`, admin);
      assert.equal(again.status, 409);
      assert.match((await again.json()).error, /Only failed runs can be retried; this one is completed/);
      assert.equal((await post(t, "/api/admin/executions/not-a-uuid/retry", admin)).status, 404);
      assert.equal(
        (await post(t, "/api/admin/executions/00000000-0000-4000-8000-000000000000/retry", admin)).status,
        404,
      );
    }),
});

Deno.test({
  name: "the enable toggle is audited, validates its body, and a disabled job cannot be triggered",
  ...dbTest,
  fn: () =>
    withApp(async (t, admin, viewer) => {
      const off = await post(t, "/api/admin/jobs/digest/enabled", admin, { enabled: false });
      assert.equal(off.status, 200);
      assert.deepEqual(await off.json(), { jobId: "digest", enabled: false });
      assert.equal((await post(t, "/api/admin/jobs/digest/trigger", admin)).status, 400);
      const bad = await post(t, "/api/admin/jobs/digest/enabled", admin, { enabled: "yes" });
      assert.equal(bad.status, 400);
      const body = await bad.json();
      assert.match(body.error, /enabled must be true or false/);
      assert.equal(body.issues[0].path, "enabled");
      assert.equal((await post(t, "/api/admin/jobs/digest/enabled", viewer, { enabled: true })).status, 403);
      assert.equal((await post(t, "/api/admin/jobs/nope/enabled", admin, { enabled: true })).status, 404);
      const actions = await t.db.sql<{ action: string }[]>`
        SELECT action FROM audit_events WHERE target_type = 'job' ORDER BY id
      `;
      assert.deepEqual(actions.map((a) => a.action), ["job.disabled"]);
    }),
});

Deno.test({
  name: "a second Run now while the first is still running is refused with 409",
  ...dbTest,
  fn: async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    const slow = defineJob({ id: "slow", displayName: "Slow", schedule: "rate(1 hour)", run: () => held });
    const t = await createTestApp({ jobs: [slow] });
    try {
      const admin = await t.signIn(await makeUser(t.db));
      assert.equal((await post(t, "/api/admin/jobs/slow/trigger", admin)).status, 202);
      const second = await post(t, "/api/admin/jobs/slow/trigger", admin);
      assert.equal(second.status, 409);
      assert.match((await second.json()).error, /already running/);
      release();
    } finally {
      release();
      await t.close();
    }
  },
});

Deno.test({
  name: "a job removed from code is retired: its history stays and it cannot be run",
  ...dbTest,
  fn: () =>
    withApp(async (t, admin) => {
      await t.db.sql`
        INSERT INTO job_definitions (id, display_name, schedule, retired_at)
        VALUES ('old-report', 'Old report', 'rate(1 day)', now())
      `;
      const response = await post(t, "/api/admin/jobs/old-report/trigger", admin);
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /retired/);
    }),
});
