import assert from "node:assert/strict";
import { migrate, MigrationError } from "../lib/db/migrate.ts";
import { dbTest } from "./helpers/app.ts";
import { createEmptyDatabase, createTestDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { connectPostgres } from "../lib/db/mod.ts";

async function copyMigrations(): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "jw-migrations-" });
  const url = new URL(`file://${dir}/`);
  for await (const entry of Deno.readDir(new URL("../migrations/", import.meta.url))) {
    await Deno.copyFile(new URL(`../migrations/${entry.name}`, import.meta.url), new URL(entry.name, url));
  }
  return url;
}

Deno.test({
  name: "migrations apply in order, once, and a second run changes nothing",
  ...dbTest,
  fn: async () => {
    const db = await createEmptyDatabase();
    try {
      const first = await migrate(db.sql);
      assert.deepEqual(first, [
        "0001_init.sql",
        "0002_scheduler.sql",
        "0003_examples.sql",
        "0004_history.sql",
        "0005_alerts.sql",
        "0006_metrics.sql",
        "0007_latest_starts.sql",
        "0008_counting_cost.sql",
      ]);
      assert.deepEqual(await migrate(db.sql), []);
      const tables = await db.sql<{ tableName: string }[]>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1
      `;
      assert.deepEqual(tables.map((t) => t.tableName), [
        "alert_outbox",
        "alerts",
        "audit_events",
        "demo_payments",
        "demo_workspaces",
        "job_alert_state",
        "job_definitions",
        "job_execution_stats",
        "job_executions",
        "job_tokens",
        "schema_migrations",
        "sessions",
        "usage_daily",
        "usage_events",
        "users",
      ]);
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "start-up refuses a database whose landed migration file was edited",
  ...dbTest,
  fn: async () => {
    const db = await createEmptyDatabase();
    const dir = await copyMigrations();
    try {
      await migrate(db.sql, dir);
      const file = new URL("0001_init.sql", dir);
      await Deno.writeTextFile(file, (await Deno.readTextFile(file)) + "\n-- edited\n");
      await assert.rejects(() => migrate(db.sql, dir), (error: Error) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /0001_init\.sql was edited after it was applied/);
        return true;
      });
    } finally {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a database with a migration this code lacks is refused, and a failed migration leaves nothing behind",
  ...dbTest,
  fn: async () => {
    const db = await createEmptyDatabase();
    const dir = await copyMigrations();
    try {
      await Deno.writeTextFile(
        new URL("0099_broken.sql", dir),
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n",
      );
      await assert.rejects(() => migrate(db.sql, dir));
      const [{ exists }] = await db.sql<{ exists: boolean }[]>`
        SELECT to_regclass('users') IS NOT NULL AS exists
      `;
      assert.equal(exists, false, "the whole run is one transaction");

      await Deno.writeTextFile(new URL("0099_broken.sql", dir), "CREATE TABLE later (id int);\n");
      await migrate(db.sql, dir);
      await assert.rejects(() => migrate(db.sql), /does not have/);
    } finally {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "two instances migrating at once apply each migration exactly once",
  ...dbTest,
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createEmptyDatabase();
    const other = connectPostgres(db.url!, { max: 1 });
    try {
      const [a, b] = await Promise.all([migrate(db.sql), migrate(other.sql)]);
      assert.deepEqual([...a, ...b], [
        "0001_init.sql",
        "0002_scheduler.sql",
        "0003_examples.sql",
        "0004_history.sql",
        "0005_alerts.sql",
        "0006_metrics.sql",
        "0007_latest_starts.sql",
        "0008_counting_cost.sql",
      ]);
      const [{ count }] = await db.sql<
        { count: number }[]
      >`SELECT count(*)::int AS count FROM schema_migrations`;
      assert.equal(count, 8);
    } finally {
      await other.close();
      await db.close();
    }
  },
});

Deno.test({
  name: "the schema: duration_ms is generated, one execution per period, e-mails unique in any case",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    const { sql } = db;
    try {
      await sql`INSERT INTO job_definitions (id, display_name, schedule) VALUES ('digest', 'Digest', 'rate(1 hour)')`;
      const [row] = await sql<{ durationMs: number }[]>`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at, completed_at)
        VALUES ('digest', '2027-W08', 'x', 'completed', '2027-02-22T09:00:00Z', '2027-02-22T09:00:12.4Z')
        RETURNING duration_ms
      `;
      assert.equal(row.durationMs, 12400);
      await assert.rejects(
        () =>
          sql`INSERT INTO job_executions (job_id, period_key, execution_id) VALUES ('digest', '2027-W08', 'y')`,
        /duplicate key/,
      );
      await sql`INSERT INTO users (email, name, role, password_hash) VALUES ('ada@example.com', 'Ada', 'admin', 'x')`;
      await assert.rejects(
        () =>
          sql`INSERT INTO users (email, name, role, password_hash) VALUES ('ADA@example.com', 'A', 'admin', 'x')`,
      );
      await assert.rejects(
        () =>
          sql`INSERT INTO users (email, name, role, password_hash) VALUES ('bob@example.com', 'B', 'root', 'x')`,
        /check constraint/,
      );
    } finally {
      await db.close();
    }
  },
});
