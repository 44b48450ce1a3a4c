/**
 * The migration runner: applies `migrations/NNNN_name.sql` in order.
 *
 * All pending files run in one transaction under a transaction-scoped
 * advisory lock, so two instances starting together migrate once; a landed
 * file whose checksum changed stops start-up instead of drifting silently.
 */
import type { Sql } from "./mod.ts";
import { sha256Hex } from "../ids.ts";

/** Arbitrary, fixed: "jobwatch" as a 64-bit key for pg_advisory_xact_lock. */
const MIGRATION_LOCK_KEY = 0x6a6f627761746368n;
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export const MIGRATIONS_DIR = new URL("../../migrations/", import.meta.url);

export class MigrationError extends Error {
  override name = "MigrationError";
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads and checksums the migration files of a directory, in order. */
export async function readMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const match = FILE_PATTERN.exec(entry.name);
    if (!match) {
      throw new MigrationError(
        `migrations/${entry.name}: expected a name like 0002_add_tokens.sql`,
      );
    }
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    migrations.push({ version: Number(match[1]), name: entry.name, sql, checksum: await sha256Hex(sql) });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new MigrationError(
        `migrations/${migrations[i].name} and ${migrations[i - 1].name} share version ${
          migrations[i].version
        }`,
      );
    }
  }
  return migrations;
}

/**
 * Applies pending migrations and returns the names applied (empty when the
 * database was current). Throws `MigrationError` for an edited or unknown one.
 */
export async function migrate(sql: Sql, dir: URL = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        checksum   TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )
    `;
    const applied = await tx<{ version: number; name: string; checksum: string }[]>`
      SELECT version, name, checksum FROM schema_migrations ORDER BY version
    `;
    const byVersion = new Map(migrations.map((m) => [m.version, m]));
    for (const row of applied) {
      const file = byVersion.get(row.version);
      if (!file) {
        throw new MigrationError(
          `the database has migration ${row.name}, which this version of Jobwatch does not have; run a newer Jobwatch or restore the file`,
        );
      }
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `migrations/${file.name} was edited after it was applied; restore it and put the change in a new migration`,
        );
      }
    }
    const done = new Set(applied.map((row) => row.version));
    const names: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(migration.sql).simple();
      await tx`
        INSERT INTO schema_migrations (version, name, checksum)
        VALUES (${migration.version}, ${migration.name}, ${migration.checksum})
      `;
      names.push(migration.name);
    }
    return names;
  });
}

/** Whether every migration file has been applied (for the readiness check). */
export async function isMigrated(sql: Sql, dir: URL = MIGRATIONS_DIR): Promise<boolean> {
  const migrations = await readMigrations(dir);
  const [{ exists }] = await sql<{ exists: boolean }[]>`
    SELECT to_regclass('schema_migrations') IS NOT NULL AS exists
  `;
  if (!exists) return false;
  const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations`;
  const applied = new Set(rows.map((row) => row.version));
  return migrations.every((m) => applied.has(m.version));
}
