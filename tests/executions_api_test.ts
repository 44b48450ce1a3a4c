import assert from "node:assert/strict";
import { defineJob } from "../lib/jobs/define.ts";
import type { ExecutionDetail, ExecutionRow } from "../lib/history.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";

const jobs = [
  defineJob({ id: "digest", displayName: "Digest", schedule: "rate(1 hour)", run: () => ({ sent: 3 }) }),
  defineJob({
    id: "flaky",
    displayName: "Flaky",
    schedule: "rate(1 hour)",
    run: () => {
      throw new Error("upstream <b>timed out</b>");
    },
  }),
];

async function withApp(fn: (t: TestApp, viewer: string, admin: string) => Promise<void>) {
  const t = await createTestApp({ jobs });
  try {
    const viewer = await t.signIn(await makeUser(t.db, { role: "viewer" }));
    const admin = await t.signIn(await makeUser(t.db, { role: "admin", name: "Ada" }));
    await fn(t, viewer, admin);
  } finally {
    await t.close();
  }
}

async function runNow(t: TestApp, admin: string, jobId: string): Promise<string> {
  const response = await t.app.request(`/api/admin/jobs/${jobId}/trigger`, {
    method: "POST",
    headers: { cookie: admin, origin: ORIGIN },
  });
  assert.equal(response.status, 202);
  const { executionId } = await response.json();
  await t.deps.jobs.runner.settle();
  return executionId;
}

const get = (t: TestApp, path: string, cookie?: string) =>
  t.app.request(path, { headers: cookie ? { cookie } : {} });

Deno.test({
  name: "a viewer reads one execution in full, with its error as plain text",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer, admin) => {
      const id = await runNow(t, admin, "flaky");
      const response = await get(t, `/api/admin/executions/${id}`, viewer);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const detail: ExecutionDetail = await response.json();
      assert.equal(detail.id, id);
      assert.equal(detail.jobName, "Flaky");
      assert.equal(detail.status, "failed");
      assert.equal(detail.trigger, "manual");
      assert.equal(detail.triggeredByName, "Ada");
      assert.equal(detail.errorMessage, "upstream <b>timed out</b>");
      assert.deepEqual(detail.retriedAs, []);
    }),
});

Deno.test({
  name: "an unknown or malformed execution id is a 404 with a JSON error",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      for (const id of [crypto.randomUUID(), "not-a-uuid", "1%27%20OR%201=1"]) {
        const response = await get(t, `/api/admin/executions/${id}`, viewer);
        assert.equal(response.status, 404, id);
        assert.match((await response.json()).error, /no execution/);
      }
    }),
});

Deno.test({
  name: "?ids= returns the rows of the executions asked for, leaving out unknown ids",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer, admin) => {
      const done = await runNow(t, admin, "digest");
      const failed = await runNow(t, admin, "flaky");
      const unknown = crypto.randomUUID();
      const response = await get(
        t,
        `/api/admin/executions?ids=${done},${failed.toUpperCase()},${unknown}`,
        viewer,
      );
      assert.equal(response.status, 200);
      const { executions } = await response.json() as { executions: ExecutionRow[] };
      assert.deepEqual(executions.map((row) => row.id).sort(), [done, failed].sort());
      const digest = executions.find((row) => row.id === done)!;
      assert.equal(digest.status, "completed");
      assert.equal(digest.jobName, "Digest");
      assert.equal(typeof digest.durationMs, "number");
      assert.equal(Object.hasOwn(digest, "result"), false, "rows carry no result: that is the detail's");
    }),
});

Deno.test({
  name: "?ids= refuses a missing or malformed list and more than 100 ids with 400",
  ...dbTest,
  fn: () =>
    withApp(async (t, viewer) => {
      const ids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID()).join(",");
      const cases: [string, RegExp][] = [
        ["/api/admin/executions", /Pass ids=/],
        ["/api/admin/executions?ids=", /Pass ids=/],
        [`/api/admin/executions?ids=${ids(1)},,${ids(1)}`, /"" is not one/],
        [`/api/admin/executions?ids=${ids(1)},nope`, /"nope" is not one/],
        [`/api/admin/executions?ids=${ids(101)}`, /at most 100 ids .* asked for 101/],
      ];
      for (const [path, message] of cases) {
        const response = await get(t, path, viewer);
        assert.equal(response.status, 400, path.slice(0, 80));
        assert.match((await response.json()).error, message);
      }
      assert.equal((await get(t, `/api/admin/executions?ids=${ids(100)}`, viewer)).status, 200);
    }),
});

Deno.test({
  name: "the executions API needs a session (401)",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      assert.equal((await get(t, `/api/admin/executions/${crypto.randomUUID()}`)).status, 401);
      assert.equal((await get(t, `/api/admin/executions?ids=${crypto.randomUUID()}`)).status, 401);
    }),
});
