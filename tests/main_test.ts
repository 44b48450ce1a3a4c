/**
 * The real entry point as a process: it starts on a fresh embedded database,
 * prints where to sign in, and refuses bad configuration with one line.
 */
import assert from "node:assert/strict";
import { startFakeResend } from "./helpers/fake_resend.ts";
import { exitWithin, readBefore, readUntil } from "./helpers/process.ts";

const ROOT = new URL("../", import.meta.url);

/** SIGTERM, then SIGKILL if the child has not exited within 15 s: a stuck shutdown cannot hang the test. */
async function stop(child: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGTERM");
  } catch {
    // it already exited; its status says how
  }
  return await exitWithin(child);
}

function jobwatch(env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-cron", "main.ts"],
    cwd: ROOT,
    env: { DATABASE_URL: "", ADMIN_EMAIL: "", ADMIN_PASSWORD: "", APP_URL: "", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test({
  name: "a bad setting stops start-up with one line naming it, and exit code 1",
  sanitizeResources: false,
  fn: async () => {
    const { code, stdout, stderr } = await jobwatch({ PORT: "abc" }).output();
    assert.equal(code, 1);
    const lines = new TextDecoder().decode(stderr).trim().split("\n");
    assert.deepEqual(lines, [
      'Jobwatch cannot start: PORT: expected an integer between 0 and 65535, got "abc"',
    ]);
    assert.equal(new TextDecoder().decode(stdout), "");
  },
});

Deno.test({
  name:
    "on a fresh embedded database it starts, prints the URL and a one-time admin password, and serves sign-in",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "jw-main-" });
    const child = jobwatch({ PORT: "0", PGLITE_DIR: `${dir}/pglite`, RESEND_API_KEY: "" }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const errors = new Response(child.stderr).text();
    let events: ReadableStreamDefaultReader<Uint8Array> | null = null;
    try {
      const output = await readUntil(reader, /password: \S+\n/, 60_000);
      const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      assert.ok(url, `no URL in:\n${output}`);
      const [, email, password] = /as (\S+) with password: (\S+)/.exec(output)!;
      assert.equal(email, "admin@localhost");

      const login = await fetch(`${url}/login`);
      assert.equal(login.status, 200);
      assert.match(await login.text(), /Sign in/);
      const signIn = await fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
        body: new URLSearchParams({ email, password }),
      });
      assert.equal(signIn.status, 303);
      const cookie = signIn.headers.get("set-cookie")!.split(";")[0];
      await signIn.body?.cancel();
      const jobs = await fetch(`${url}/admin/jobs`, { headers: { cookie } });
      assert.match(await jobs.text(), /Weekly Digest Email/, "the example jobs are on by default");

      const health = await fetch(`${url}/health/jobs`);
      const report = await health.json();
      assert.equal(health.status, 200, "a freshly started app is healthy");
      assert.deepEqual(
        report.jobs.map((job: { state: string }) => job.state),
        ["new", "new", "new", "new", "new", "new"],
        "every job (the retention job and the five examples) waits for its first run",
      );

      const second = await jobwatch({ PORT: "0", PGLITE_DIR: `${dir}/pglite` }).output();
      assert.equal(second.code, 1, "a second server on the same embedded database is refused");
      assert.match(new TextDecoder().decode(second.stderr), /in use by another Jobwatch process \(pid \d+\)/);

      // A live dashboard's event stream is open when the server is told to stop.
      const opened = await fetch(`${url}/api/admin/events`, { headers: { cookie } });
      assert.equal(opened.status, 200);
      events = opened.body!.getReader();
      assert.notEqual(await readBefore(events, Date.now() + 5000), "timeout", "the stream opened");
    } finally {
      const status = await stop(child);
      // Shutdown ended the stream itself (a clean end, not a reset), and it did not hold the exit up.
      const end = events && await readBefore(events, Date.now() + 5000).catch((error) => `${error}`);
      await reader.cancel().catch(() => {});
      const logged = await errors;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      assert.equal(status.code, 0, "SIGTERM shuts down cleanly");
      if (events) assert.deepEqual(end, { done: true, value: undefined }, "SIGTERM closed the event stream");
      assert.equal(
        logged.match(/WARN alert e-mails are off: RESEND_API_KEY is not set/g)?.length,
        1,
        `one warning at start-up, in:\n${logged}`,
      );
    }
  },
});

Deno.test({
  name: "the running app e-mails an external job's failure through Resend (to the admins and ALERT_TO)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const fake = await startFakeResend();
    const dir = await Deno.makeTempDir({ prefix: "jw-main-" });
    const child = jobwatch({
      PORT: "0",
      PGLITE_DIR: `${dir}/pglite`,
      ADMIN_EMAIL: "ada@example.com",
      ADMIN_PASSWORD: "correct horse battery staple",
      RESEND_API_KEY: "re_test_key",
      RESEND_BASE_URL: fake.url,
      ALERT_FROM: "Jobwatch <jobs@example.com>",
      ALERT_TO: "ops@example.com",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const errors = new Response(child.stderr).text();
    try {
      const output = await readUntil(reader, /Sign in at .*\n/, 60_000);
      const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      assert.ok(url, `no URL in:\n${output}`);
      const signIn = await fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
        body: new URLSearchParams({ email: "ada@example.com", password: "correct horse battery staple" }),
      });
      const cookie = signIn.headers.get("set-cookie")!.split(";")[0];
      await signIn.body?.cancel();
      const tokenPage = await fetch(`${url}/admin/jobs/nightly-backup/tokens`, {
        method: "POST",
        headers: { cookie, origin: url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ label: "test" }),
      });
      const token = /jw_[A-Za-z0-9_-]{43}/.exec(await tokenPage.text())?.[0];
      assert.ok(token, "the new token is shown once");

      const report = await fetch(`${url}/api/runs/nightly-backup`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ status: "failed", error: "disk full </pre><b>", durationMs: 1200 }),
      });
      assert.equal(report.status, 201, await report.text());
      const [request] = await fake.waitForRequests(1, 15_000);
      const body = request.body as { to: string[]; subject: string; html: string };
      assert.equal(body.subject, "Job failed: Nightly Backup");
      assert.deepEqual(body.to, ["ada@example.com", "ops@example.com"]);
      assert.ok(body.html.includes("disk full &lt;/pre&gt;&lt;b&gt;"));
      assert.match(request.idempotencyKey ?? "", /^jobwatch-alert-[0-9a-f-]{36}$/);
    } finally {
      await stop(child);
      await reader.cancel().catch(() => {});
      const logged = await errors;
      await fake.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      assert.doesNotMatch(logged, /re_test_key/, "the API key is never logged");
      assert.doesNotMatch(logged, /alert e-mails are off/);
    }
  },
});
