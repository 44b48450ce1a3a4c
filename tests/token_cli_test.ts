import assert from "node:assert/strict";
import { runTokenCommand, type TokenCommandIo } from "../lib/cli/token.ts";
import { connectEmbedded } from "../lib/db/mod.ts";
import { startEmbedded } from "../lib/db/pglite.ts";
import { defineJob, toDeclaredJob } from "../lib/jobs/define.ts";
import { authenticateJobToken } from "../lib/jobs/tokens.ts";
import { syncJobDefinitions } from "../lib/queries/jobs.ts";
import { dbTest } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const REPO_ROOT = new URL("..", import.meta.url).pathname;
const APP_URL = "https://jobs.example.com";
const TOKEN_LINE = /^Token, shown once: (jw_[A-Za-z0-9_-]{43})$/;

const nightlyBackup = defineJob({
  id: "nightly-backup",
  external: true,
  schedule: "cron(0 2 * * ? *)",
  displayName: "Nightly backup",
});

/** Runs the CLI in-process, recording what it prints. */
function cli(db: TestDatabase) {
  const output: string[] = [];
  const errors: string[] = [];
  const io: TokenCommandIo = {
    sql: db.sql,
    print: (line) => output.push(line),
    printError: (line) => errors.push(line),
    appUrl: APP_URL,
  };
  return { output, errors, run: (...args: string[]) => runTokenCommand(args, io) };
}

async function withDatabase(fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase();
  try {
    await syncJobDefinitions(db.sql, [toDeclaredJob(nightlyBackup)], new Date());
    await fn(db);
  } finally {
    await db.close();
  }
}

async function auditTrail(db: TestDatabase) {
  return [
    ...await db.sql<
      { action: string; actorEmail: string; targetId: string; metadata: Record<string, unknown> }[]
    >`
      SELECT action, actor_email, target_id, metadata FROM audit_events ORDER BY id
    `,
  ];
}

Deno.test({
  name: "create prints the token once with a curl example, stores only its hash, and audits it",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const { run, output, errors } = cli(db);
      assert.equal(await run("create", "nightly-backup", "--label", "prod lambda"), 0, errors.join("\n"));
      const tokenLines = output.filter((line) => TOKEN_LINE.test(line));
      assert.equal(tokenLines.length, 1);
      const token = TOKEN_LINE.exec(tokenLines[0])![1];
      const [record] = await db.sql<{ id: string; label: string; createdBy: string; tokenHash: string }[]>`
        SELECT id, label, created_by, token_hash FROM job_tokens
      `;
      assert.equal(output[0], `Created token ${record.id} for nightly-backup (prod lambda).`);
      assert.equal(record.label, "prod lambda");
      assert.equal(record.createdBy, "cli");
      assert.ok(!record.tokenHash.includes(token.slice(3)));
      const curl = output.join("\n");
      assert.ok(curl.includes(`curl -fsS -X POST ${APP_URL}/api/runs/nightly-backup \\`));
      assert.ok(curl.includes(`-H 'Authorization: Bearer ${token}'`));
      assert.equal(
        output.filter((line) => line.includes(token)).length,
        2,
        "the token line and the curl line",
      );
      assert.equal(await authenticateJobToken(db.sql, token, new Date()), "nightly-backup");
      assert.deepEqual(await auditTrail(db), [{
        action: "token.created",
        actorEmail: "cli",
        targetId: record.id,
        metadata: { jobId: "nightly-backup", label: "prod lambda" },
      }]);
    }),
});

Deno.test({
  name: "create refuses a job that does not exist, and writes nothing",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const { run, output, errors } = cli(db);
      assert.equal(await run("create", "nightly-bakup"), 1);
      assert.deepEqual(output, []);
      assert.match(errors[0], /^There is no job "nightly-bakup"\./);
      const [{ count }] = await db.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM job_tokens`;
      assert.equal(count, 0);
      assert.deepEqual(await auditTrail(db), []);
    }),
});

Deno.test({
  name: "list shows a job's tokens, live ones first, with label, creation, last use and revocation",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const empty = cli(db);
      assert.equal(await empty.run("list", "nightly-backup"), 0);
      assert.deepEqual(empty.output, [
        "nightly-backup has no tokens yet. Create one with: deno task token create nightly-backup",
      ]);

      const setup = cli(db);
      await setup.run("create", "nightly-backup", "--label=old");
      const [old] = await db.sql<{ id: string }[]>`SELECT id FROM job_tokens`;
      await setup.run("revoke", old.id);
      await setup.run("create", "nightly-backup");
      const token = TOKEN_LINE.exec(setup.output.findLast((line) => TOKEN_LINE.test(line))!)![1];
      await authenticateJobToken(db.sql, token, new Date("2027-03-01T02:00:00Z"));

      const { run, output } = cli(db);
      assert.equal(await run("list", "nightly-backup"), 0);
      assert.equal(output.length, 3);
      assert.match(output[0], /^ID +LABEL +CREATED \(UTC\) +LAST USED \(UTC\) +REVOKED \(UTC\)$/);
      assert.match(output[1], /^[0-9a-f-]{36} {9}\d{4}-\d\d-\d\d \d\d:\d\d {2}2027-03-01 02:00 {2}-$/);
      assert.match(
        output[2],
        new RegExp(`^${old.id} {2}old {4}\\S+ \\S+ {2}- {17}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`),
      );

      const unknown = cli(db);
      assert.equal(await unknown.run("list", "nope"), 1);
      assert.match(unknown.errors[0], /There is no job "nope"/);
    }),
});

Deno.test({
  name: "revoke stops the token at once, audits it, and is harmless to repeat",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const setup = cli(db);
      await setup.run("create", "nightly-backup");
      const token = TOKEN_LINE.exec(setup.output.find((line) => TOKEN_LINE.test(line))!)![1];
      const [{ id }] = await db.sql<{ id: string }[]>`SELECT id FROM job_tokens`;

      const { run, output } = cli(db);
      assert.equal(await run("revoke", id.toUpperCase()), 0);
      assert.deepEqual(output, [`Revoked token ${id} of nightly-backup.`]);
      assert.equal(await authenticateJobToken(db.sql, token, new Date()), null);

      const again = cli(db);
      assert.equal(await again.run("revoke", id), 0);
      assert.match(
        again.output[0],
        new RegExp(`^Token ${id} of nightly-backup was already revoked at \\d{4}-`),
      );
      assert.deepEqual((await auditTrail(db)).map((event) => [event.action, event.targetId]), [
        ["token.created", id],
        ["token.revoked", id],
      ]);

      const unknown = cli(db);
      assert.equal(await unknown.run("revoke", crypto.randomUUID()), 1);
      assert.match(unknown.errors[0], /^There is no token /);
    }),
});

Deno.test({
  name: "bad arguments exit 2 with the reason and the usage text",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const cases: [string[], RegExp][] = [
        [["create"], /^Jobwatch: a job id is required$/],
        [["create", "a", "b"], /^Jobwatch: unexpected argument "b"$/],
        [["create", "a", "--label"], /^Jobwatch: --label needs a value$/],
        [["create", "a", "--lable", "x"], /^Jobwatch: unknown option --lable$/],
        [["revoke", "jw_abc"], /^Jobwatch: expected a token id such as/],
        [["rotate"], /^Jobwatch: unknown command "rotate"$/],
      ];
      for (const [args, message] of cases) {
        const { run, errors } = cli(db);
        assert.equal(await run(...args), 2, args.join(" "));
        assert.match(errors[0], message);
        assert.match(errors[2], /^Usage: deno task token/);
      }
      const help = cli(db);
      assert.equal(await help.run(), 0);
      assert.match(help.output[0], /^Usage: deno task token/);
    }),
});

// Subprocesses: the real entry point on a fresh embedded database, which it
// migrates and fills with the declared jobs (lib/jobs/mod.ts) itself.

async function runCli(args: string[], pgliteDir: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/token.ts", ...args],
    cwd: REPO_ROOT,
    env: {
      PGLITE_DIR: pgliteDir,
      DATABASE_URL: "",
      TEST_DATABASE_URL: "",
      ADMIN_EMAIL: "",
      ADMIN_PASSWORD: "",
      APP_URL: APP_URL,
      JOBWATCH_EXAMPLES: "on",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test({
  name: "the cli creates a working token for nightly-backup on a fresh embedded database",
  ...dbTest,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "jw-token-cli-" });
    const dir = `${parent}/pglite`;
    try {
      const created = await runCli(["create", "nightly-backup", "--label", "ci"], dir);
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stderr, "");
      const lines = created.stdout.split("\n");
      assert.match(lines[0], /^Created token [0-9a-f-]{36} for nightly-backup \(ci\)\.$/);
      const token = TOKEN_LINE.exec(lines[1])![1];
      assert.ok(created.stdout.includes(`curl -fsS -X POST ${APP_URL}/api/runs/nightly-backup`));

      const db = await connectEmbedded(dir);
      try {
        assert.equal(await authenticateJobToken(db.sql, token, new Date()), "nightly-backup");
      } finally {
        await db.close();
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "the cli refuses clearly while a server holds the embedded database",
  ...dbTest,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "jw-token-cli-" });
    const dir = `${parent}/pglite`;
    const server = await startEmbedded(dir);
    try {
      const refused = await runCli(["list", "nightly-backup"], dir);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, "");
      assert.match(
        refused.stderr,
        new RegExp(`^Jobwatch: a running Jobwatch server \\(pid ${Deno.pid}\\) holds the embedded database`),
      );
    } finally {
      await server.close();
      await Deno.remove(parent, { recursive: true });
    }
  },
});
