import assert from "node:assert/strict";
import { verifyPassword } from "../lib/auth/password.ts";
import { hashSessionId, newSessionId } from "../lib/auth/session.ts";
import { PasswordInputError, runUserCommand, type UserCommandIo } from "../lib/cli/user.ts";
import { startEmbedded } from "../lib/db/pglite.ts";
import { insertSession } from "../lib/queries/sessions.ts";
import { getUserByEmail } from "../lib/queries/users.ts";
import { dbTest, makeUser, TEST_COST } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const PASSWORD = "correct horse battery staple";
const REPO_ROOT = new URL("..", import.meta.url).pathname;

/** Runs the CLI in-process, recording what it prints. */
function cli(db: TestDatabase, options: Partial<UserCommandIo> = {}) {
  const output: string[] = [];
  const errors: string[] = [];
  const io: UserCommandIo = {
    sql: db.sql,
    readPassword: () => Promise.resolve(PASSWORD),
    print: (line) => output.push(line),
    printError: (line) => errors.push(line),
    hashCost: TEST_COST,
    ...options,
  };
  return {
    output,
    errors,
    run: (...args: string[]) => runUserCommand(args, io),
  };
}

async function withDatabase(fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

async function addSession(db: TestDatabase, userId: string): Promise<void> {
  await insertSession(db.sql, {
    idHash: await hashSessionId(newSessionId()),
    userId,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 86400_000),
    ip: null,
    userAgent: null,
  });
}

async function sessionCount(db: TestDatabase, userId: string): Promise<number> {
  const [{ count }] = await db.sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM sessions WHERE user_id = ${userId}
  `;
  return count;
}

Deno.test({
  name: "add creates an admin named after the e-mail whose password verifies, hashed at OWASP cost",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const { run, output } = cli(db, { hashCost: undefined });
      assert.equal(await run("add", "Ada@Example.com"), 0);
      const user = await getUserByEmail(db.sql, "ada@example.com");
      assert.ok(user);
      assert.equal(user.email, "ada@example.com");
      assert.equal(user.role, "admin");
      assert.equal(user.name, "ada");
      assert.match(user.passwordHash, /^scrypt\$131072\$8\$1\$/);
      assert.ok(await verifyPassword(PASSWORD, user.passwordHash));
      assert.deepEqual(output, ["Created admin ada@example.com (ada)."]);
    }),
});

Deno.test({
  name: "add with --role viewer and --name creates a viewer with that name",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const { run } = cli(db);
      assert.equal(await run("add", "vic@example.com", "--role", "viewer", "--name=Vic Viewer"), 0);
      const user = await getUserByEmail(db.sql, "vic@example.com");
      assert.equal(user?.role, "viewer");
      assert.equal(user?.name, "Vic Viewer");
    }),
});

Deno.test({
  name: "add of an existing e-mail, in any case, fails without asking for a password and points to passwd",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const existing = await makeUser(db, { email: "ada@example.com", role: "viewer" });
      let asked = false;
      const { run, errors } = cli(db, {
        readPassword: () => {
          asked = true;
          return Promise.resolve(PASSWORD);
        },
      });
      assert.equal(await run("add", "ADA@example.com"), 1);
      assert.equal(asked, false);
      assert.match(
        errors.join("\n"),
        /ada@example\.com already exists.*deno task user passwd ada@example\.com/,
      );
      const user = await getUserByEmail(db.sql, "ada@example.com");
      assert.equal(user?.role, "viewer");
      assert.ok(await verifyPassword(existing.password, user!.passwordHash));
    }),
});

Deno.test({
  name: "passwd changes the hash and revokes that user's sessions but not other users'",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const ada = await makeUser(db, { email: "ada@example.com", password: "the old password!" });
      const bob = await makeUser(db, { email: "bob@example.com", role: "viewer" });
      await addSession(db, ada.user.id);
      await addSession(db, ada.user.id);
      await addSession(db, bob.user.id);
      const before = (await getUserByEmail(db.sql, ada.email))!.passwordHash;

      const { run, output } = cli(db, { readPassword: () => Promise.resolve("a brand new passphrase") });
      assert.equal(await run("passwd", "ada@example.com"), 0);

      const after = (await getUserByEmail(db.sql, ada.email))!.passwordHash;
      assert.notEqual(after, before);
      assert.ok(await verifyPassword("a brand new passphrase", after));
      assert.equal(await sessionCount(db, ada.user.id), 0);
      assert.equal(await sessionCount(db, bob.user.id), 1);
      assert.deepEqual(output, ["Changed the password of ada@example.com and revoked 2 sessions."]);
    }),
});

Deno.test({
  name: "passwd and remove of an unknown e-mail fail and say so",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const { run, errors } = cli(db);
      assert.equal(await run("passwd", "nobody@example.com"), 1);
      assert.equal(await run("remove", "nobody@example.com"), 1);
      assert.deepEqual(errors, [
        "There is no user nobody@example.com; see them with: deno task user list",
        "There is no user nobody@example.com; see them with: deno task user list",
      ]);
    }),
});

Deno.test({
  name: "remove deletes the user and its sessions",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      await makeUser(db, { email: "ada@example.com" });
      const bob = await makeUser(db, { email: "bob@example.com" });
      await addSession(db, bob.user.id);
      const { run, output } = cli(db);
      assert.equal(await run("remove", "bob@example.com"), 0);
      assert.equal(await getUserByEmail(db.sql, "bob@example.com"), null);
      assert.equal(await sessionCount(db, bob.user.id), 0);
      assert.deepEqual(output, ["Removed admin bob@example.com and revoked 1 session."]);
    }),
});

Deno.test({
  name: "remove refuses to remove the last admin, even when viewers remain",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      await makeUser(db, { email: "ada@example.com" });
      await makeUser(db, { email: "vic@example.com", role: "viewer" });
      const { run, errors } = cli(db);
      assert.equal(await run("remove", "ada@example.com"), 1);
      assert.match(
        errors[0],
        /ada@example\.com is the last admin and cannot be removed; add another admin first/,
      );
      assert.ok(await getUserByEmail(db.sql, "ada@example.com"));
    }),
});

Deno.test({
  name: "a bad role, an unknown command, a missing or malformed e-mail are usage errors that change nothing",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const cases: [string[], RegExp][] = [
        [["add", "ada@example.com", "--role", "root"], /--role must be admin or viewer, got "root"/],
        [["add", "ada@example.com", "--role"], /--role needs a value/],
        [["frobnicate"], /unknown command "frobnicate"/],
        [["add"], /an e-mail address is required/],
        [["add", "ada"], /expected an e-mail address/],
        [["remove", "ada@example.com", "--force"], /unknown option --force/],
        [["passwd", "ada@example.com", "bob@example.com"], /unexpected argument "bob@example.com"/],
      ];
      for (const [args, message] of cases) {
        const { run, errors } = cli(db);
        assert.equal(await run(...args), 2, args.join(" "));
        assert.match(errors[0], message);
        assert.match(errors.join("\n"), /Usage: deno task user <command>/);
      }
      const [{ count }] = await db.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM users`;
      assert.equal(count, 0);
    }),
});

Deno.test({
  name: "an empty or too-short password is refused with the reason and nothing is created",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const short = cli(db, { readPassword: () => Promise.resolve("too short") });
      assert.equal(await short.run("add", "ada@example.com"), 1);
      assert.deepEqual(short.errors, ["Passwords must be at least 12 characters long. Nothing was changed."]);

      const empty = cli(db, { readPassword: () => Promise.resolve("") });
      assert.equal(await empty.run("add", "ada@example.com"), 1);
      assert.match(empty.errors[0], /No password given.*--generate/);

      assert.equal(await getUserByEmail(db.sql, "ada@example.com"), null);
    }),
});

Deno.test({
  name: "a password that cannot be read (mismatch, cancel) changes nothing and exits with its code",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const mismatch = cli(db, {
        readPassword: () => Promise.reject(new PasswordInputError("The two passwords differ.")),
      });
      assert.equal(await mismatch.run("add", "ada@example.com"), 1);
      assert.deepEqual(mismatch.errors, ["The two passwords differ."]);

      const cancelled = cli(db, {
        readPassword: () => Promise.reject(new PasswordInputError("Cancelled.", 130)),
      });
      assert.equal(await cancelled.run("add", "ada@example.com"), 130);
      assert.equal(await getUserByEmail(db.sql, "ada@example.com"), null);
    }),
});

Deno.test({
  name: "every change writes an audit event attributed to the cli",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const { run } = cli(db);
      await makeUser(db, { email: "ada@example.com" });
      assert.equal(await run("add", "bob@example.com", "--role", "viewer"), 0);
      assert.equal(await run("passwd", "bob@example.com"), 0);
      assert.equal(await run("remove", "bob@example.com"), 0);
      const events = await db.sql<
        { action: string; actorEmail: string; targetType: string; targetId: string; metadata: unknown }[]
      >`
        SELECT action, actor_email, target_type, target_id, metadata FROM audit_events ORDER BY id
      `;
      assert.deepEqual(events.map((event) => ({ ...event })), [
        {
          action: "user.created",
          actorEmail: "cli",
          targetType: "user",
          targetId: "bob@example.com",
          metadata: { role: "viewer", name: "bob" },
        },
        {
          action: "user.password_changed",
          actorEmail: "cli",
          targetType: "user",
          targetId: "bob@example.com",
          metadata: { sessionsRevoked: 0, generated: false },
        },
        {
          action: "user.removed",
          actorEmail: "cli",
          targetType: "user",
          targetId: "bob@example.com",
          metadata: { role: "viewer", sessionsRevoked: 0 },
        },
      ]);
    }),
});

Deno.test({
  name: "a typed password never appears in the output; a generated one is printed once and works",
  ...dbTest,
  fn: async () => {
    await withDatabase(async (db) => {
      const { run, output, errors } = cli(db);
      assert.equal(await run("add", "ada@example.com"), 0);
      assert.equal(await run("passwd", "ada@example.com"), 0);
      assert.equal(await run("list"), 0);
      assert.equal(await run("add", "ada@example.com"), 1);
      const printed = [...output, ...errors].join("\n");
      assert.ok(!printed.includes(PASSWORD), printed);
    });
    await withDatabase(async (db) => {
      const { run, output } = cli(db, { readPassword: () => Promise.reject(new Error("must not be asked")) });
      assert.equal(await run("add", "ada@example.com", "--generate"), 0);
      const lines = output.filter((line) => line.startsWith("Password, shown once: "));
      assert.equal(lines.length, 1);
      const generated = lines[0].slice("Password, shown once: ".length);
      assert.match(generated, /^[A-Za-z0-9]{20}$/);
      const user = await getUserByEmail(db.sql, "ada@example.com");
      assert.ok(await verifyPassword(generated, user!.passwordHash));
    });
  },
});

Deno.test({
  name: "list prints e-mail, role, name and created date, one user per line",
  ...dbTest,
  fn: () =>
    withDatabase(async (db) => {
      const empty = cli(db);
      assert.equal(await empty.run("list"), 0);
      assert.deepEqual(empty.output, ["No users yet. Add one with: deno task user add <email>"]);

      await makeUser(db, { email: "vic@example.com", role: "viewer", name: "Vic Viewer" });
      await makeUser(db, { email: "ada@example.com", role: "admin", name: "Ada" });
      const { run, output } = cli(db);
      assert.equal(await run("list"), 0);
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual(output, [
        `ada@example.com  admin   Ada         ${today}`,
        `vic@example.com  viewer  Vic Viewer  ${today}`,
      ]);
    }),
});

// Subprocesses: the real entry point on the embedded database. PGlite takes
// seconds to start, so there are only a few of these.

async function runCli(args: string[], pgliteDir: string, stdin = ""): Promise<{
  code: number;
  stdout: string;
  stderr: string;
}> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/user.ts", ...args],
    cwd: REPO_ROOT,
    clearEnv: false,
    env: {
      PGLITE_DIR: pgliteDir,
      DATABASE_URL: "",
      TEST_DATABASE_URL: "",
      ADMIN_EMAIL: "",
      ADMIN_PASSWORD: "",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test({
  name: "the cli adds a user with the password piped on stdin to a fresh embedded database, and lists it",
  ...dbTest,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "jw-cli-" });
    const dir = `${parent}/pglite`;
    try {
      const added = await runCli(["add", "ada@example.com", "--name", "Ada"], dir, `${PASSWORD}\n`);
      assert.equal(added.code, 0, added.stderr);
      assert.equal(added.stdout, "Created admin ada@example.com (Ada).\n");
      assert.ok(!(added.stdout + added.stderr).includes(PASSWORD));

      const listed = await runCli(["list"], dir);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^ada@example\.com {2}admin {3}Ada {2}\d{4}-\d{2}-\d{2}\n$/);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "the cli refuses clearly while a server holds the embedded database, but reports usage errors first",
  ...dbTest,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "jw-cli-" });
    const dir = `${parent}/pglite`;
    const server = await startEmbedded(dir);
    try {
      const refused = await runCli(["list"], dir);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, "");
      assert.equal(
        refused.stderr,
        `Jobwatch: a running Jobwatch server (pid ${Deno.pid}) holds the embedded database in ${dir}, ` +
          "and PGlite allows one process at a time. Stop the server first and run this command again, " +
          "or set DATABASE_URL to use PostgreSQL.\n",
      );

      const usage = await runCli(["add", "ada@example.com", "--role", "root"], dir);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^Jobwatch: --role must be admin or viewer, got "root"\n\nUsage:/);
    } finally {
      await server.close();
      await Deno.remove(parent, { recursive: true });
    }
  },
});
