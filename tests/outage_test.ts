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
import { MISSED_REASON } from "../lib/jobs/scheduler.ts";
import { createTestApp, dbTest, makeUser, ORIGIN } from "./helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { exitWithin, readUntil } from "./helpers/process.ts";
import { createClock, createScheduler, MINUTE, syncJobs } from "./helpers/scheduler.ts";
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

/** A proxy in front of the PostgreSQL server of TEST_DATABASE_URL, for cutting it off. */
function proxyToTestServer() {
  const target = new URL(TEST_DATABASE_URL!);
  return startTcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) });
}

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
    const proxy = proxyToTestServer();
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
        // The probes are bounded at 1.5 s by design; the rest wait for the pool's next reconnect attempt
        // (at most 1 s apart) and fail with it, well inside the 5 s connect timeout.
        const bound = answer.path.startsWith("/health") ? 2000 : 5000;
        assert.ok(answer.ms < bound, `${answer.path} took ${Math.round(answer.ms)} ms`);
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

const ROOT = new URL("../", import.meta.url);

Deno.test({
  name: "the real server stays up through a database outage, and hears other instances again after it",
  ignore: !TEST_DATABASE_URL,
  ...dbTest,
  fn: async () => {
    const proxy = proxyToTestServer();
    const db = await createTestDatabase();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-cron", "main.ts"],
      cwd: ROOT,
      env: {
        DATABASE_URL: proxy.urlFor(db.url!),
        PORT: "0",
        APP_URL: "",
        ADMIN_EMAIL: "ada@example.com",
        ADMIN_PASSWORD: "correct horse battery staple",
        JOBWATCH_EXAMPLES: "off",
        RESEND_API_KEY: "",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const errors = new Response(child.stderr).text();
    let exited = false;
    child.status.then(() => exited = true);
    let events: ReadableStreamDefaultReader<string> | null = null;
    let printed = "";
    try {
      const started = await readUntil(output, /Sign in at .*\n/, 60_000);
      // Keep reading what it prints, so a full pipe never blocks it.
      (async () => {
        for (let next = await output.read(); !next.done; next = await output.read()) printed += next.value;
      })().catch(() => {});
      const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(started)?.[1];
      assert.ok(url, `no URL in:\n${started}`);
      const signIn = await fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
        body: new URLSearchParams({ email: "ada@example.com", password: "correct horse battery staple" }),
      });
      await signIn.body?.cancel();
      const cookie = signIn.headers.get("set-cookie")!.split(";")[0];
      const get = async (path: string) => {
        const response = await fetch(`${url}${path}`, { headers: { cookie } });
        await response.body?.cancel();
        return response.status;
      };

      proxy.cut();
      const outageStarted = Date.now();
      const statuses = new Set<string>();
      while (Date.now() - outageStarted < OUTAGE_MS) {
        for (const path of ["/health/jobs", "/health/ready", "/api/admin/jobs", "/admin/jobs"]) {
          statuses.add(`${path} ${await get(path)}`);
        }
        assert.equal(exited, false, "the server exited during the outage");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual([...statuses].sort(), [
        "/admin/jobs 503",
        "/api/admin/jobs 503",
        "/health/jobs 503",
        "/health/ready 503",
      ]);
      proxy.restore();
      const restored = Date.now();
      while (await get("/health/ready") !== 200 && Date.now() - restored < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(await get("/health/ready"), 200, "ready again within 5 s");
      assert.equal(await get("/admin/jobs"), 200);

      // Another instance's change, announced through NOTIFY, reaches this server's live stream again.
      const stream = await fetch(`${url}/api/admin/events`, { headers: { cookie } });
      events = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      const event = {
        executionId: crypto.randomUUID(),
        jobId: "elsewhere",
        status: "running",
        instanceId: "other",
      };
      let heard = "";
      const reader = events;
      (async () => {
        for (let next = await reader.read(); !next.done; next = await reader.read()) heard += next.value;
      })().catch(() => {});
      const deadline = Date.now() + 5000;
      while (!heard.includes(event.executionId) && Date.now() < deadline) {
        await db.sql`SELECT pg_notify('jobwatch_events', ${JSON.stringify(event)})`;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok(
        heard.includes(event.executionId),
        "the server stopped hearing other instances after the outage",
      );
    } finally {
      proxy.restore();
      await events?.cancel().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch {
        // it already exited: the assertions below say so
      }
      const status = await exitWithin(child);
      await output.cancel().catch(() => {});
      const logged = await errors;
      await proxy.close();
      await db.close();
      assert.equal(status.code, 0, `exit ${status.code}; it logged:\n${logged.slice(-2000)}`);
      assert.doesNotMatch(logged, /Uncaught|Unhandled/, "an error escaped during the outage");
    }
  },
});

Deno.test({
  name: "ticks that fail while the database is away are caught up after it by the missed-run rule",
  ignore: !TEST_DATABASE_URL,
  ...dbTest,
  fn: async () => {
    const proxy = proxyToTestServer();
    const db = await createTestDatabase();
    const throughProxy = connectPostgres(proxy.urlFor(db.url!), { max: 2 });
    try {
      const clock = createClock();
      const job = defineJob({
        id: "minutely",
        displayName: "Minutely",
        schedule: "* * * * *",
        run: () => "ok",
      });
      await syncJobs(db.sql, [job], clock);
      const scheduler = createScheduler(throughProxy.sql, [job], clock);
      await scheduler.tickAndSettle();

      proxy.cut();
      for (let minute = 0; minute < 3; minute++) {
        clock.advance(MINUTE);
        await assert.rejects(scheduler.tick(), "a tick without a database fails (main.ts logs it)");
      }
      proxy.restore();
      clock.advance(MINUTE);
      const report = await scheduler.tickAndSettle();

      // Four minutes went by: the latest occurrence runs (late), the three before it are recorded as skipped.
      assert.deepEqual([report.started.length, report.skipped.length], [1, 3]);
      const rows = await db.sql<{ status: string; reason: string | null }[]>`
        SELECT status, metadata->>'reason' AS reason FROM job_executions WHERE job_id = 'minutely'
        ORDER BY period_key
      `;
      assert.deepEqual(rows.map((r) => r.status), ["skipped", "skipped", "skipped", "completed"]);
      assert.deepEqual(rows.slice(0, 3).map((r) => r.reason), Array(3).fill(MISSED_REASON));
    } finally {
      proxy.restore();
      await throughProxy.close();
      await proxy.close();
      await db.close();
    }
  },
});
