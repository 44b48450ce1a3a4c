import assert from "node:assert/strict";
import type { ExecutionEvent } from "../lib/events.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { authenticateJobToken, createJobToken, hashJobToken, revokeJobToken } from "../lib/jobs/tokens.ts";
import { createTestApp, dbTest, type TestApp } from "./helpers/app.ts";

const nightlyBackup = defineJob({
  id: "nightly-backup",
  external: true,
  schedule: "cron(0 2 * * ? *)",
  displayName: "Nightly backup",
  critical: true,
});
const jobs = [
  nightlyBackup,
  defineJob({
    id: "inventory-sync",
    external: true,
    schedule: "rate(1 hour)",
    displayName: "Inventory sync",
  }),
  defineJob({
    id: "paused-export",
    external: true,
    schedule: "rate(1 day)",
    displayName: "Paused export",
    enabled: false,
  }),
  defineJob({ id: "digest", schedule: "rate(1 hour)", displayName: "Digest", run: () => null }),
];

/** 2027-03-01 02:00:30 UTC, just after the nightly backup's occurrence. */
const MONDAY_2AM = new Date("2027-03-01T02:00:30Z");

interface Runs {
  t: TestApp;
  /** A live token of nightly-backup. */
  token: string;
  events: ExecutionEvent[];
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

async function withRuns(fn: (runs: Runs) => Promise<void>) {
  const t = await createTestApp({ jobs });
  t.clock.now = MONDAY_2AM;
  const { token } = await createJobToken(t.db.sql, "nightly-backup", { label: "lambda", createdBy: "test" });
  const events: ExecutionEvent[] = [];
  t.deps.jobs.bus.on((event) => events.push(event));
  const post = async (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    await t.app.request(path, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  try {
    await fn({ t, token, events, post });
  } finally {
    await t.close();
  }
}

interface Row {
  id: string;
  jobId: string;
  periodKey: string;
  executionId: string;
  status: string;
  trigger: string;
  startedAt: Date;
  completedAt: Date | null;
  durationMs: number | null;
  result: unknown;
  errorMessage: string | null;
  metadata: Record<string, unknown> | null;
  exitCode: number | null;
  log: string | null;
}

async function executions(t: TestApp): Promise<Row[]> {
  return await t.db.sql<Row[]>`
    SELECT id, job_id, period_key, execution_id, status, trigger, started_at, completed_at, duration_ms, result,
           error_message, metadata, exit_code, log
    FROM job_executions ORDER BY started_at, id
  `;
}

const expectedPeriod = nightlyBackup.schedule.periodKey(new Date("2027-03-01T02:00:00Z"));

Deno.test({
  name: "start then complete records an external run with its result, exit code, log and clock duration",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const started = await post("/api/runs/nightly-backup/start", {
        executionId: "aws-req-1",
        metadata: { host: "a" },
      });
      assert.equal(started.status, 201);
      const { id, periodKey, status } = await started.json();
      assert.equal(periodKey, expectedPeriod);
      assert.equal(status, "running");

      t.clock.advance(90_000);
      const completed = await post(`/api/runs/${id}/complete`, {
        result: { files: 12, bytes: 3456 },
        exitCode: 0,
        log: "dumped 12 tables\nuploaded",
      });
      assert.equal(completed.status, 200);
      assert.deepEqual(await completed.json(), { id, status: "completed" });

      const [row] = await executions(t);
      assert.equal(row.id, id);
      assert.equal(row.jobId, "nightly-backup");
      assert.equal(row.executionId, "aws-req-1");
      assert.equal(row.trigger, "external");
      assert.equal(row.status, "completed");
      assert.deepEqual(row.result, { files: 12, bytes: 3456 });
      assert.deepEqual(row.metadata, { host: "a" });
      assert.equal(row.exitCode, 0);
      assert.equal(row.log, "dumped 12 tables\nuploaded");
      assert.equal(row.startedAt.getTime(), MONDAY_2AM.getTime());
      assert.equal(row.durationMs, 90_000);
      assert.deepEqual(events.map((e) => [e.executionId, e.jobId, e.status, e.instanceId]), [
        [id, "nightly-backup", "running", t.deps.jobs.instanceId],
        [id, "nightly-backup", "completed", t.deps.jobs.instanceId],
      ]);
    }),
});

Deno.test({
  name: "start and complete accept a request with no body at all, and start makes a random execution id",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const started = await post("/api/runs/nightly-backup/start");
      assert.equal(started.status, 201);
      const { id } = await started.json();
      assert.equal((await post(`/api/runs/${id}/complete`)).status, 200);
      const [row] = await executions(t);
      assert.equal(row.status, "completed");
      assert.equal(row.result, null);
      assert.match(row.executionId, /^[0-9a-f-]{36}$/);
    }),
});

Deno.test({
  name:
    "a repeated start for the same period answers 200 with the same run and its status, publishing nothing",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const first = await post("/api/runs/nightly-backup/start", {});
      assert.equal(first.status, 201);
      t.clock.advance(10 * 60_000);
      const second = await post("/api/runs/nightly-backup/start", {});
      assert.equal(second.status, 200);
      const { id } = await first.json();
      assert.deepEqual(await second.json(), { id, periodKey: expectedPeriod, status: "running" });
      assert.equal((await post(`/api/runs/${id}/complete`)).status, 200);
      const afterwards = await post("/api/runs/nightly-backup/start", {});
      assert.equal(afterwards.status, 200);
      assert.equal((await afterwards.json()).status, "completed", "so the client knows this period is done");
      const explicit = await post("/api/runs/nightly-backup/start", { periodKey: "rerun-1" });
      assert.equal(explicit.status, 201);
      assert.equal((await explicit.json()).periodKey, "rerun-1");
      assert.equal((await executions(t)).length, 2);
      assert.deepEqual(events.map((e) => e.status), ["running", "completed", "running"]);
    }),
});

Deno.test({
  name: "fail records the error, exit code and log, and publishes the failure",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      t.clock.advance(5_000);
      const failed = await post(`/api/runs/${id}/fail`, {
        error: "pg_dump: connection refused",
        exitCode: 2,
        log: "x",
      });
      assert.equal(failed.status, 200);
      assert.deepEqual(await failed.json(), { id, status: "failed" });
      const [row] = await executions(t);
      assert.equal(row.status, "failed");
      assert.equal(row.errorMessage, "pg_dump: connection refused");
      assert.equal(row.exitCode, 2);
      assert.equal(row.log, "x");
      assert.equal(row.durationMs, 5_000);
      assert.deepEqual(events.map((e) => e.status), ["running", "failed"]);
    }),
});

Deno.test({
  name: "a one-shot completed report dates the run from startedAt and durationMs",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const response = await post("/api/runs/nightly-backup", {
        status: "completed",
        startedAt: "2027-03-01T02:00:05Z",
        durationMs: 12_345,
        result: { ok: true },
        exitCode: 0,
      });
      assert.equal(response.status, 201);
      const { id } = await response.json();
      const [row] = await executions(t);
      assert.equal(row.id, id);
      assert.equal(row.status, "completed");
      assert.equal(row.trigger, "external");
      assert.equal(row.startedAt.toISOString(), "2027-03-01T02:00:05.000Z");
      assert.equal(row.durationMs, 12_345);
      assert.equal(row.periodKey, expectedPeriod);
      assert.deepEqual(row.result, { ok: true });
      assert.deepEqual(events.map((e) => [e.executionId, e.status]), [[id, "completed"]]);
    }),
});

Deno.test({
  name: "a one-shot failed report without startedAt ends now and started durationMs earlier",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const response = await post("/api/runs/nightly-backup", {
        status: "failed",
        durationMs: 30_000,
        error: "disk full",
        exitCode: 1,
      });
      assert.equal(response.status, 201);
      const [row] = await executions(t);
      assert.equal(row.status, "failed");
      assert.equal(row.errorMessage, "disk full");
      assert.equal(row.exitCode, 1);
      assert.equal(row.completedAt!.getTime(), MONDAY_2AM.getTime());
      assert.equal(row.durationMs, 30_000);
      assert.deepEqual(events.map((e) => e.status), ["failed"]);
    }),
});

Deno.test({
  name: "a second one-shot report for the same period answers 409 with the existing run",
  ...dbTest,
  fn: () =>
    withRuns(async ({ post }) => {
      const { id } = await (await post("/api/runs/nightly-backup", { status: "completed" })).json();
      const again = await post("/api/runs/nightly-backup", { status: "completed" });
      assert.equal(again.status, 409);
      const body = await again.json();
      assert.equal(body.id, id);
      assert.match(body.error, /already has a run for period/);
    }),
});

Deno.test({
  name: "completing or failing a finished run answers 409 with its status, and changes nothing",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      assert.equal((await post(`/api/runs/${id}/complete`, { result: 1 })).status, 200);
      const twice = await post(`/api/runs/${id}/complete`, { result: 2 });
      assert.equal(twice.status, 409);
      assert.match((await twice.json()).error, /no longer running: it is completed/);
      const late = await post(`/api/runs/${id}/fail`, { error: "late" });
      assert.equal(late.status, 409);
      const [row] = await executions(t);
      assert.equal(row.result, 1);
      assert.equal(row.errorMessage, null);
      assert.equal(events.length, 2);
    }),
});

Deno.test({
  name: "an unknown or malformed run id answers 404",
  ...dbTest,
  fn: () =>
    withRuns(async ({ post }) => {
      for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
        const response = await post(`/api/runs/${id}/complete`, {});
        assert.equal(response.status, 404, id);
        assert.match((await response.json()).error, /There is no run/);
      }
    }),
});

Deno.test({
  name: "a token of another job gets the same 401 as a request for a job that does not exist",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      const { token: other } = await createJobToken(t.db.sql, "inventory-sync");
      const auth = { authorization: `Bearer ${other}` };
      const wrongJob = await post("/api/runs/nightly-backup/start", {}, auth);
      const noJob = await post("/api/runs/no-such-job/start", {}, auth);
      const wrongRun = await post(`/api/runs/${id}/complete`, {}, auth);
      const wrongOneShot = await post("/api/runs/nightly-backup", { status: "completed" }, auth);
      const bodies = [];
      for (const response of [wrongJob, noJob, wrongRun, wrongOneShot]) {
        assert.equal(response.status, 401);
        bodies.push(await response.text());
      }
      assert.equal(new Set(bodies).size, 1);
      assert.match(JSON.parse(bodies[0]).error, /Authorization: Bearer/);
      assert.equal((await executions(t))[0].status, "running");
    }),
});

Deno.test({
  name:
    "a bad token is refused with 401 before the body is judged; with a good one the body gets its 400 or 413",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      const { token: other } = await createJobToken(t.db.sql, "inventory-sync");
      const { token: revoked, record } = await createJobToken(t.db.sql, "nightly-backup");
      await revokeJobToken(t.db.sql, record.id);
      const neverIssued = `jw_${"A".repeat(43)}`;
      const big = { blob: "x".repeat(70 * 1024) };
      const cases: [string, unknown, number][] = [
        ["/api/runs/nightly-backup/start", { periodKey: 5 }, 400],
        ["/api/runs/nightly-backup/start", { metadata: big }, 413],
        [`/api/runs/${id}/complete`, { exitCode: "zero" }, 400],
        [`/api/runs/${id}/complete`, { result: big }, 413],
        [`/api/runs/${id}/fail`, {}, 400],
        ["/api/runs/nightly-backup", { status: "maybe" }, 400],
        ["/api/runs/nightly-backup", { status: "completed", result: big }, 413],
      ];
      for (const [path, body, status] of cases) {
        for (const token of ["jw_short", neverIssued, revoked, other]) {
          const authorization = `Bearer ${token}`;
          const refused = await post(path, body, { authorization });
          assert.equal(
            refused.status,
            401,
            `${path} ${JSON.stringify(body).slice(0, 40)} as ${authorization}`,
          );
        }
        assert.equal((await post(path, body)).status, status, `${path} ${JSON.stringify(body).slice(0, 40)}`);
      }
      const rows = await executions(t);
      assert.deepEqual(rows.map((row) => row.status), ["running"], "nothing refused was written");
      const late = await post(`/api/runs/${id}/fail`, { error: "boom" }, {
        authorization: `Bearer ${revoked}`,
      });
      assert.equal(late.status, 401, "a revoked token cannot finish a run");
      assert.equal((await executions(t))[0].status, "running");
    }),
});

Deno.test({
  name: "a run id in upper case finishes the run, and the answer names it as stored",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      const response = await post(`/api/runs/${id.toUpperCase()}/complete`, {});
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { id, status: "completed" });
      const again = await post(`/api/runs/${id.toUpperCase()}/fail`, { error: "late" });
      assert.equal(again.status, 409);
      assert.match((await again.json()).error, new RegExp(`Run ${id} is no longer running: it is completed`));
      assert.equal((await executions(t))[0].status, "completed");
    }),
});

Deno.test({
  name: "a revoked token gets 401",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const { token, record } = await createJobToken(t.db.sql, "nightly-backup");
      const auth = { authorization: `Bearer ${token}` };
      assert.equal((await post("/api/runs/nightly-backup/start", {}, auth)).status, 201);
      await revokeJobToken(t.db.sql, record.id);
      assert.equal((await post("/api/runs/nightly-backup", { status: "completed" }, auth)).status, 401);
    }),
});

Deno.test({
  name: "a missing or malformed Authorization header gets 401 with the same message",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, token, post }) => {
      const messages = new Set<string>();
      for (
        const authorization of [
          "",
          token,
          `Basic ${token}`,
          "Bearer jw_short",
          `Bearer ${token.slice(0, -1)}x`,
          `Bearer ${token} extra`,
        ]
      ) {
        const response = await t.app.request("/api/runs/nightly-backup/start", {
          method: "POST",
          headers: authorization ? { authorization } : {},
        });
        assert.equal(response.status, 401, authorization);
        messages.add((await response.json()).error);
      }
      assert.equal(messages.size, 1);
      assert.equal((await post("/api/runs/nightly-backup/start")).status, 201, "the real token still works");
    }),
});

Deno.test({
  name: "a result or metadata over 64 KB gets 413 and nothing is written",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, events, post }) => {
      const big = { blob: "x".repeat(64 * 1024) };
      const oneShot = await post("/api/runs/nightly-backup", { status: "completed", result: big });
      assert.equal(oneShot.status, 413);
      assert.match((await oneShot.json()).error, /result is 65 KB of JSON; it is limited to 64 KB/);
      assert.equal((await post("/api/runs/nightly-backup/start", { metadata: big })).status, 413);
      assert.equal((await executions(t)).length, 0);

      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      assert.equal((await post(`/api/runs/${id}/complete`, { result: big })).status, 413);
      const [row] = await executions(t);
      assert.equal(row.status, "running");
      assert.equal(events.length, 1);
    }),
});

Deno.test({
  name: "a log longer than 10 KB is stored as its last 10 KB",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const log = "a".repeat(5000) + "b".repeat(10 * 1024);
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      assert.equal((await post(`/api/runs/${id}/fail`, { error: "e".repeat(20_000), log })).status, 200);
      const [row] = await executions(t);
      assert.equal(row.log, "b".repeat(10 * 1024));
      assert.equal(row.errorMessage, "e".repeat(8 * 1024));
    }),
});

Deno.test({
  name: "bad bodies get 400 naming the field",
  ...dbTest,
  fn: () =>
    withRuns(async ({ post }) => {
      const { id } = await (await post("/api/runs/nightly-backup/start", {})).json();
      const cases: [string, unknown, RegExp, string][] = [
        [`/api/runs/${id}/fail`, {}, /^error must be a string/, "error"],
        [`/api/runs/${id}/fail`, { error: "  " }, /^error must not be empty/, "error"],
        [
          "/api/runs/nightly-backup",
          { status: "failed" },
          /^error is required when status is "failed"/,
          "error",
        ],
        ["/api/runs/nightly-backup", { status: "completed", error: "x" }, /^error is only for/, "error"],
        ["/api/runs/nightly-backup", { status: "done" }, /^status must be/, "status"],
        [
          "/api/runs/nightly-backup",
          { status: "completed", durationMs: -1 },
          /^durationMs must not be negative/,
          "durationMs",
        ],
        [
          "/api/runs/nightly-backup",
          { status: "completed", durationMs: 1.5 },
          /^durationMs must be a whole/,
          "durationMs",
        ],
        [
          "/api/runs/nightly-backup",
          { status: "completed", durationMs: 40 * 86_400_000 },
          /^durationMs must be at most/,
          "durationMs",
        ],
        [`/api/runs/${id}/complete`, { exitCode: "0" }, /^exitCode must be an integer/, "exitCode"],
        [`/api/runs/${id}/complete`, { exitCode: 2 ** 31 }, /^exitCode must be an integer/, "exitCode"],
        [`/api/runs/${id}/complete`, { log: 42 }, /^log must be a string/, "log"],
        [
          `/api/runs/${id}/complete`,
          { result: 1, status: "completed" },
          /^Unknown field "status"; accepted: result/,
          "",
        ],
        ["/api/runs/nightly-backup/start", { metadata: [1] }, /^metadata must be a JSON object/, "metadata"],
        ["/api/runs/nightly-backup/start", { periodKey: "" }, /^periodKey must not be empty/, "periodKey"],
        ["/api/runs/nightly-backup/start", [], /^The body must be a JSON object/, ""],
        [
          "/api/runs/nightly-backup",
          { status: "completed", startedAt: "yesterday" },
          /^startedAt must be an ISO 8601 date-time/,
          "startedAt",
        ],
        [
          "/api/runs/nightly-backup",
          { status: "completed", startedAt: "2027-03-01T03:00:00Z" },
          /^startedAt is in the future/,
          "startedAt",
        ],
        [
          "/api/runs/nightly-backup",
          { status: "completed", startedAt: "2027-01-01T00:00:00Z" },
          /^startedAt is more than 24 days ago; send durationMs/,
          "startedAt",
        ],
      ];
      for (const [path, body, message, field] of cases) {
        const response = await post(path, body);
        const json = await response.json();
        assert.equal(response.status, 400, `${JSON.stringify(body)}: ${json.error}`);
        assert.match(json.error, message);
        assert.equal(json.issues[0].path, field, JSON.stringify(body));
      }
    }),
});

Deno.test({
  name: "a body that is not JSON gets 400, and one of another content type 415",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const broken = await post("/api/runs/nightly-backup", "{status: completed");
      assert.equal(broken.status, 400);
      assert.match((await broken.json()).error, /not valid JSON/);
      const form = await post("/api/runs/nightly-backup", "status=completed", {
        "content-type": "application/x-www-form-urlencoded",
      });
      assert.equal(form.status, 415);
      assert.match((await form.json()).error, /Content-Type: application\/json/);
      assert.equal((await post("/api/runs/nightly-backup")).status, 415, "a one-shot report needs a body");
      assert.equal((await executions(t)).length, 0);
    }),
});

Deno.test({
  name: "disabled, retired and in-process jobs cannot report runs (400)",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      const tokenOf = async (jobId: string) => ({
        authorization: `Bearer ${(await createJobToken(t.db.sql, jobId)).token}`,
      });
      const disabled = await post("/api/runs/paused-export/start", {}, await tokenOf("paused-export"));
      assert.equal(disabled.status, 400);
      assert.match((await disabled.json()).error, /disabled/);

      const inProcess = await post("/api/runs/digest", { status: "completed" }, await tokenOf("digest"));
      assert.equal(inProcess.status, 400);
      assert.match((await inProcess.json()).error, /runs inside Jobwatch/);

      await t.db.sql`
        INSERT INTO job_definitions (id, display_name, schedule, external, retired_at)
        VALUES ('old-report', 'Old report', 'rate(1 day)', true, now())
      `;
      const retired = await post("/api/runs/old-report/start", {}, await tokenOf("old-report"));
      assert.equal(retired.status, 400);
      assert.match((await retired.json()).error, /retired/);
      assert.equal((await executions(t)).length, 0);
    }),
});

Deno.test({
  name: "runs of in-process jobs cannot be completed over the runs API",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t }) => {
      const [{ id }] = await t.db.sql<{ id: string }[]>`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at)
        VALUES ('digest', 'p1', 'x', 'running', 'scheduled', now()) RETURNING id
      `;
      const { token } = await createJobToken(t.db.sql, "digest");
      const response = await t.app.request(`/api/runs/${id}/complete`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 409);
      assert.match((await response.json()).error, /started by Jobwatch itself/);
    }),
});

Deno.test({
  name:
    "tokens are jw_ plus 43 base64url characters, stored only as a SHA-256, stamped at most once a minute",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t }) => {
      const { token, record } = await createJobToken(t.db.sql, "nightly-backup", {
        label: " k8s ",
        createdBy: "ada",
      });
      assert.match(token, /^jw_[A-Za-z0-9_-]{43}$/);
      const [row] = await t.db.sql<{ tokenHash: string; label: string; createdBy: string }[]>`
        SELECT token_hash, label, created_by FROM job_tokens WHERE id = ${record.id}
      `;
      assert.equal(row.tokenHash, await hashJobToken(token));
      assert.match(row.tokenHash, /^[0-9a-f]{64}$/);
      assert.equal(row.label, "k8s");
      assert.equal(row.createdBy, "ada");

      const lastUsed = async () =>
        (await t.db.sql<{ lastUsedAt: Date | null }[]>`
          SELECT last_used_at FROM job_tokens WHERE id = ${record.id}
        `)[0].lastUsedAt?.toISOString() ?? null;
      const at = (iso: string) => new Date(iso);
      assert.equal(await authenticateJobToken(t.db.sql, token, at("2027-03-01T00:00:00Z")), "nightly-backup");
      assert.equal(await lastUsed(), "2027-03-01T00:00:00.000Z");
      await authenticateJobToken(t.db.sql, token, at("2027-03-01T00:00:59Z"));
      assert.equal(await lastUsed(), "2027-03-01T00:00:00.000Z");
      await authenticateJobToken(t.db.sql, token, at("2027-03-01T00:01:01Z"));
      assert.equal(await lastUsed(), "2027-03-01T00:01:01.000Z");

      assert.equal(await authenticateJobToken(t.db.sql, token.toUpperCase(), new Date()), null);
      assert.equal(await authenticateJobToken(t.db.sql, "nope", new Date()), null);
      await assert.rejects(() => createJobToken(t.db.sql, "no-such-job"), /There is no job "no-such-job"/);
    }),
});

Deno.test({
  name:
    "a start a few seconds before its occurrence belongs to that occurrence, not the finished previous one",
  ...dbTest,
  fn: () =>
    withRuns(async ({ t, post }) => {
      t.clock.now = new Date("2027-03-01T01:59:58Z");
      const response = await post("/api/runs/nightly-backup/start", {});
      assert.equal(response.status, 201);
      const { periodKey } = await response.json();
      assert.equal(periodKey, nightlyBackup.schedule.periodKey(new Date("2027-03-01T02:00:00Z")));
    }),
});

Deno.test({
  name: "NUL characters and impossible dates in a report get a 400 or are stored safely, never a 500",
  ...dbTest,
  fn: () =>
    withRuns(async ({ post }) => {
      const badKey = await post("/api/runs/nightly-backup/start", { periodKey: "2027\u0000" });
      assert.equal(badKey.status, 400);
      const yearZero = await post("/api/runs/nightly-backup", {
        status: "completed",
        startedAt: "0000-01-01T00:00:00Z",
        durationMs: 0,
      });
      assert.equal(yearZero.status, 400);
      const report = await post("/api/runs/nightly-backup", {
        status: "failed",
        error: "pg_dump\u0000 failed",
        log: "line\u0000",
        result: { "a\u0000": "b\u0000" },
      });
      assert.equal(report.status, 201);
    }),
});
