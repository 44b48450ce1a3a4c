/**
 * A database outage under load, on PostgreSQL: the app's connections go
 * through a proxy that drops them and refuses new ones for OUTAGE_MS (10 s
 * by default; JOBWATCH_OUTAGE_MS=30000 for the long form) while a job is
 * running and clients keep asking. Nothing may answer 500 or hang; the job's
 * completion is written when the database returns, with the time it really
 * finished; and the app is normal again within 5 s.
 */
import assert from "node:assert/strict";
import { connectPostgres, type Database } from "../lib/db/mod.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { createTestApp, dbTest, makeUser, ORIGIN } from "./helpers/app.ts";
import { TEST_DATABASE_URL } from "./helpers/db.ts";
import { startTcpProxy } from "./helpers/tcp_proxy.ts";

const OUTAGE_MS = Number(Deno.env.get("JOBWATCH_OUTAGE_MS") || 10_000);

/** The running job finishes when the test says so. */
let finishJob: (() => void) | null = null;

const jobs = [
  defineJob({
    id: "import",
    displayName: "Import",
    schedule: "rate(1 hour)",
    critical: true,
    timeoutSeconds: 120,
    run: () => new Promise((resolve) => finishJob = () => resolve({ imported: 42 })),
  }),
];

interface Answer {
  path: string;
  status: number;
  ms: number;
  body: string;
  retryAfter: string | null;
}

Deno.test({
  name:
    "through a database outage under load: 503s within 2 s, the finished run is written after, normal in 5 s",
  ignore: !TEST_DATABASE_URL,
  ...dbTest,
  fn: async () => {
    const target = new URL(TEST_DATABASE_URL!);
    const proxy = startTcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) });
    let appDb: Database | null = null;
    const t = await createTestApp({
      jobs,
      appSql: (db) => (appDb = connectPostgres(proxy.urlFor(db.url!), { max: 4 })).sql,
    });
    try {
      const cookie = await t.signIn(await makeUser(t.db, { role: "admin" }));
      const ask = async (path: string, init: RequestInit = {}): Promise<Answer> => {
        const started = performance.now();
        const response = await t.app.request(path, {
          ...init,
          headers: { cookie, origin: ORIGIN, ...init.headers },
        });
        const body = await response.text();
        const ms = performance.now() - started;
        return { path, status: response.status, ms, body, retryAfter: response.headers.get("retry-after") };
      };
      // The run starts while the database is up.
      const triggered = await ask("/api/admin/jobs/import/trigger", { method: "POST" });
      assert.equal(triggered.status, 202, triggered.body);
      const { executionId } = JSON.parse(triggered.body);
      assert.equal((await ask("/health/jobs")).status, 200);

      proxy.cut();
      const outageStarted = Date.now();
      // Load: four clients asking for the health check, the API and the dashboard, back to back.
      const answers: Answer[] = [];
      const clients = ["/health/jobs", "/api/admin/jobs", "/admin/jobs", "/health/ready"].map(
        async (path) => {
          while (Date.now() - outageStarted < OUTAGE_MS - 500) {
            answers.push(await ask(path, { headers: { accept: "text/html" } }));
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        },
      );
      // The job finishes during the outage.
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 4));
      const finishedAt = t.clock.now;
      finishJob!();
      // The write waits for the database; the clock moves on meanwhile, and must not move the finish.
      await new Promise((resolve) => setTimeout(resolve, 0));
      t.clock.advance(5_000);
      await Promise.all(clients);
      proxy.restore();
      const restored = Date.now();

      assert.ok(answers.length >= 20, `only ${answers.length} requests during the outage`);
      for (const answer of answers) {
        assert.equal(answer.status, 503, `${answer.path}: ${answer.status} ${answer.body.slice(0, 200)}`);
        assert.ok(answer.ms < 2000, `${answer.path} took ${Math.round(answer.ms)} ms`);
        assert.match(answer.body, /database (is )?unavailable/i, answer.path);
        if (!answer.path.startsWith("/health")) assert.equal(answer.retryAfter, "5", answer.path);
      }

      // Normal again within 5 s: every read answers 200, and the run is recorded as it finished.
      for (const path of ["/health/jobs", "/api/admin/jobs", "/admin/jobs", "/health/ready"]) {
        let answer = await ask(path);
        while (answer.status !== 200 && Date.now() - restored < 5000) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          answer = await ask(path);
        }
        assert.equal(answer.status, 200, `${path} ${Date.now() - restored} ms after the database returned`);
      }
      await t.deps.jobs.runner.settle();
      const [run] = await t.db.sql<
        { status: string; result: unknown; completedAt: Date; errorMessage: null }[]
      >`
        SELECT status, result, completed_at, error_message FROM job_executions WHERE id = ${executionId}
      `;
      assert.equal(run.status, "completed");
      assert.deepEqual(run.result, { imported: 42 });
      assert.equal(run.errorMessage, null);
      assert.equal(run.completedAt.getTime(), finishedAt.getTime(), "completed_at is when it finished");
      assert.ok(
        t.log.lines.some((line) => line.includes("retrying the run's outcome")),
        "the runner said it was waiting for the database",
      );
      assert.ok(Date.now() - restored < 5000 + 1000, "recorded soon after the database returned");
    } finally {
      // Restored first: a runner still retrying its write would otherwise hold close() up.
      proxy.restore();
      finishJob?.();
      await t.close();
      await (appDb as Database | null)?.close();
      await proxy.close();
    }
  },
});
