/**
 * An isolated database per test file: a clone of a migrated PGlite template
 * by default, or a fresh database on the PostgreSQL server named by
 * TEST_DATABASE_URL (created here, dropped on close).
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { connectPostgres, type Database, type Sql, wrapEmbedded } from "../../lib/db/mod.ts";
import { migrate, MIGRATIONS_DIR, readMigrations } from "../../lib/db/migrate.ts";
import { serveEmbedded } from "../../lib/db/pglite.ts";

export interface TestDatabase extends Database {
  /** A URL other processes can use (PostgreSQL only; null on PGlite). */
  url: string | null;
}

export const TEST_DATABASE_URL = Deno.env.get("TEST_DATABASE_URL") || null;

/** Options for Deno.test on tests that hold database connections. */
export const dbTest = { sanitizeResources: false, sanitizeOps: false } as const;

let template: Promise<PGlite> | null = null;

async function migratedTemplate(): Promise<PGlite> {
  const db = await PGlite.create("memory://");
  const server = await serveEmbedded(db, null);
  const database = wrapEmbedded({ ...server, close: async () => {} }, "memory://");
  await migrate(database.sql);
  await database.sql.end();
  return db;
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const base = new URL(TEST_DATABASE_URL!);
  const name = `jw_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(base.href, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  const database = connectPostgres(url.href, { max: 5 });
  await migrate(database.sql);
  return {
    ...database,
    url: url.href,
    close: async () => {
      await database.close();
      const cleanup = postgres(base.href, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A migrated, empty database of the kind this test run uses. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (TEST_DATABASE_URL) return await createPostgresDatabase();
  template ??= migratedTemplate();
  const clone = await (await template).clone() as PGlite;
  const server = await serveEmbedded(clone, null);
  return { ...wrapEmbedded(server, "memory://"), url: null };
}

/** Runs `fn` on a fresh migrated database of its own, closed (and on PostgreSQL dropped) afterwards. */
export async function withDatabase(fn: (sql: Sql) => Promise<void>): Promise<void> {
  const db = await createTestDatabase();
  try {
    await fn(db.sql);
  } finally {
    await db.close();
  }
}

/** An empty, unmigrated database (for migration tests). */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  if (TEST_DATABASE_URL) {
    const db = await createPostgresDatabase();
    await db.sql.unsafe("DROP SCHEMA public CASCADE; CREATE SCHEMA public").simple();
    return db;
  }
  const server = await serveEmbedded(await PGlite.create("memory://"), null);
  return { ...wrapEmbedded(server, "memory://"), url: null };
}

/** Applies only the migrations numbered below `first` (e.g. "0006"): the schema an upgrade starts from. */
export async function migrateBefore(sql: Sql, first: string): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const migration of await readMigrations()) {
      if (migration.name < first) {
        await Deno.copyFile(new URL(migration.name, MIGRATIONS_DIR), `${dir}/${migration.name}`);
      }
    }
    await migrate(sql, new URL(`file://${dir}/`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
