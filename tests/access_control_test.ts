/**
 * Access control, generated from the route table: who may call each route.
 * A route added to routes/mod.ts is checked here without anyone listing it.
 */
import assert from "node:assert/strict";
import { startSession } from "../lib/auth/session.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { createJobToken, revokeJobToken } from "../lib/jobs/tokens.ts";
import { type Route, routes } from "../routes/mod.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";
import { makeExecution } from "./helpers/fixtures.ts";
import { fingerprint } from "./helpers/fingerprint.ts";

/** Text that must never leave the admin area: an error message with a credential in it. */
const SECRET_ERROR = "connect to db failed: password=hunter2-SECRET";

const jobs = [
  defineJob({
    id: "digest",
    schedule: "rate(1 hour)",
    displayName: "Digest",
    critical: true,
    run: () => null,
  }),
  defineJob({ id: "backup", external: true, schedule: "cron(0 2 * * ? *)", displayName: "Backup" }),
  defineJob({ id: "export", external: true, schedule: "rate(1 day)", displayName: "Export" }),
];

interface Fixture {
  t: TestApp;
  params: Record<string, string>;
  cookie: { admin: string; viewer: string };
  /** A live token of each external job, and a revoked one of backup. */
  tokens: { backup: string; export: string; revoked: string };
}

async function withFixture(fn: (f: Fixture) => Promise<void>) {
  const t = await createTestApp({ jobs, env: { BADGES: "on" } });
  try {
    const admin = await makeUser(t.db, { role: "admin" });
    const viewer = await makeUser(t.db, { role: "viewer" });
    const backup = await createJobToken(t.db.sql, "backup");
    const exportToken = await createJobToken(t.db.sql, "export");
    const revoked = await createJobToken(t.db.sql, "backup");
    await revokeJobToken(t.db.sql, revoked.record.id, new Date());
    const executionId = await makeExecution(t.db.sql, {
      jobId: "digest",
      startedAt: new Date(Date.now() - 60_000),
      status: "failed",
      durationMs: 500,
      errorMessage: SECRET_ERROR,
    });
    const session = async (user: typeof admin.user) =>
      `jobwatch_session=${await startSession(t.deps, user, { ip: null, userAgent: null })}`;
    await fn({
      t,
      params: { jobId: "digest", id: executionId, tokenId: backup.record.id, file: "digest.svg" },
      cookie: { admin: await session(admin.user), viewer: await session(viewer.user) },
      tokens: { backup: backup.token, export: exportToken.token, revoked: revoked.token },
    });
  } finally {
    await t.close();
  }
}

function pathOf(route: Route, params: Record<string, string>): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => params[name]);
}

/** Sends a request; the body is read as text (an event stream is cancelled after its headers). */
async function send(
  t: TestApp,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; location: string | null; text: string; contentType: string }> {
  const response = await t.app.request(path, {
    method,
    headers: {
      origin: ORIGIN,
      ...headers,
      ...(method === "GET" ? {} : { "content-type": "application/json" }),
    },
    body: method === "GET" ? undefined : "{}",
  });
  const contentType = response.headers.get("content-type") ?? "";
  let text = "";
  if (contentType.startsWith("text/event-stream")) await response.body?.cancel();
  else text = await response.text();
  await t.deps.jobs.runner.settle();
  return { status: response.status, location: response.headers.get("location"), text, contentType };
}

/** A job and a run that do not exist. */
const NO_SUCH_RUN = { jobId: "no-such-job", id: "00000000-0000-4000-8000-000000000000" };

const userRoutes = routes.filter((route) => route.access === "user");
const writes = userRoutes.filter((route) => route.method !== "GET");

Deno.test({
  name: "every route for signed-in users refuses anonymous and forged sessions, and shows them nothing",
  ...dbTest,
  fn: () =>
    withFixture(async ({ t, params }) => {
      assert.ok(userRoutes.length >= 15, "the table lists the admin area");
      const forged = { cookie: `jobwatch_session=${"A".repeat(43)}` };
      for (const route of userRoutes) {
        for (const headers of [{}, forged]) {
          const before = await fingerprint(t.db.sql);
          const answer = await send(t, route.method, pathOf(route, params), headers);
          const where = `${route.method} ${route.path} ${headers === forged ? "(forged cookie)" : ""}`;
          if (route.path.startsWith("/api/") || route.method !== "GET") {
            assert.equal(answer.status, 401, where);
            assert.match(answer.text, /[Ss]ign in/, where);
          } else {
            assert.equal(answer.status, 303, where);
            assert.match(answer.location!, /^\/login\?next=%2F/, where);
          }
          assert.doesNotMatch(answer.text, /Digest|hunter2/, `${where} shows nothing of the jobs`);
          assert.equal(await fingerprint(t.db.sql), before, `${where} changed nothing`);
        }
      }
    }),
});

Deno.test({
  name: "viewers may read every signed-in route but every write is refused with 403 and changes nothing",
  ...dbTest,
  fn: () =>
    withFixture(async ({ t, params, cookie }) => {
      assert.ok(writes.length >= 7, "the table has writes");
      for (const route of userRoutes) {
        const where = `${route.method} ${route.path}`;
        const before = await fingerprint(t.db.sql);
        const answer = await send(t, route.method, pathOf(route, params), { cookie: cookie.viewer });
        if (route.method === "GET") {
          // 200, or a 400 for a read that needs a query (?ids=): the guard let the viewer through.
          assert.ok([200, 400].includes(answer.status), `${where}: ${answer.status}`);
          continue;
        }
        assert.equal(answer.status, 403, where);
        assert.match(answer.text, /read-only/, where);
        assert.equal(await fingerprint(t.db.sql), before, `${where} changed nothing`);
      }
    }),
});

Deno.test({
  name: "admins get past the guard on every signed-in route (the control for the two tests above)",
  ...dbTest,
  fn: () =>
    withFixture(async ({ t, params, cookie }) => {
      for (const route of userRoutes) {
        const answer = await send(t, route.method, pathOf(route, params), { cookie: cookie.admin });
        assert.ok(![401, 403].includes(answer.status), `${route.method} ${route.path}: ${answer.status}`);
        assert.ok(answer.status < 500, `${route.method} ${route.path}: ${answer.status}`);
      }
    }),
});

Deno.test({
  name: "a run token works only for its own job; another job's, a revoked or a missing token get one 401",
  ...dbTest,
  fn: () =>
    withFixture(async ({ t, tokens }) => {
      const runRoutes = routes.filter((route) => route.path.startsWith("/api/runs/"));
      assert.equal(runRoutes.length, 4);
      // A run of backup to complete or fail by id.
      const started = await t.app.request("/api/runs/backup/start", {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.backup}` },
      });
      assert.equal(started.status, 201);
      const refusals = new Set<string>();
      // A real job and one that does not exist: the refusals must not tell them apart. (A run id is a
      // random UUID: a live token of any job may learn that one does not exist, as a 404.)
      for (const params of [{ jobId: "backup", id: (await started.json()).id }, NO_SUCH_RUN]) {
        for (const route of runRoutes.filter((r) => params !== NO_SUCH_RUN || r.path.includes(":jobId"))) {
          for (
            const authorization of [
              `Bearer ${tokens.export}`,
              `Bearer ${tokens.revoked}`,
              undefined,
              "Basic x",
            ]
          ) {
            const before = await fingerprint(t.db.sql);
            const answer = await send(
              t,
              route.method,
              pathOf(route, params),
              authorization ? { authorization } : {},
            );
            assert.equal(answer.status, 401, `${route.path} with ${authorization?.slice(0, 12)}`);
            refusals.add(answer.text);
            assert.equal(await fingerprint(t.db.sql), before, `${route.path} changed nothing`);
          }
        }
      }
      assert.equal(refusals.size, 1, "every refusal reads the same, so none tells which jobs exist");
      // The control: the job's own token completes the run.
      const [{ id: runId }] = await t.db.sql<
        { id: string }[]
      >`SELECT id FROM job_executions WHERE job_id = 'backup'`;
      const completed = await t.app.request(`/api/runs/${runId}/complete`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.backup}` },
      });
      assert.equal(completed.status, 200);
    }),
});

Deno.test({
  name: "public routes answer without a session and never show an error text, whatever the jobs' state",
  ...dbTest,
  fn: () =>
    withFixture(async ({ t, params }) => {
      const probes = routes.filter((route) =>
        route.access === "public" && route.method === "GET" && route.path !== "/login" && route.path !== "/"
      );
      assert.ok(probes.length >= 6);
      for (const route of probes) {
        const answer = await send(t, "GET", pathOf(route, params));
        const where = `GET ${route.path}`;
        assert.ok([200, 503].includes(answer.status), `${where}: ${answer.status}`);
        assert.doesNotMatch(answer.text, /hunter2|password|connect to db/, where);
        assert.doesNotMatch(answer.text, /Digest/, `${where} shows ids, not display names`);
      }
      // The failing critical job does turn the check red: the text is withheld, not the state.
      const health = await send(t, "GET", "/health/jobs");
      assert.equal(health.status, 503);
      assert.equal(
        JSON.parse(health.text).jobs.find((job: { id: string }) => job.id === "digest").state,
        "failing",
      );
    }),
});
