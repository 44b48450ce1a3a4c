import assert from "node:assert/strict";
import { dbTest } from "./helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";

Deno.test({
  name: "concurrent transactions do not interleave: each sees only its own uncommitted writes",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    const { sql } = db;
    try {
      await sql`CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)`;
      await sql`INSERT INTO counter VALUES (1, 0)`;
      // Each transaction reads, waits, and writes back read + 1. If two ran
      // interleaved on one PGlite session, updates would be lost or one
      // transaction's ROLLBACK would undo another's work.
      const increments = Array.from({ length: 20 }, (_, i) =>
        sql.begin(async (tx) => {
          const [{ value }] = await tx<
            { value: number }[]
          >`SELECT value FROM counter WHERE id = 1 FOR UPDATE`;
          await new Promise((resolve) => setTimeout(resolve, 2));
          await tx`UPDATE counter SET value = ${value + 1} WHERE id = 1`;
          if (i % 5 === 0) throw new Error("roll this one back");
        }).catch((error: Error) => error.message));
      const outcomes = await Promise.all(increments);
      assert.equal(outcomes.filter((o) => o === "roll this one back").length, 4);
      const [{ value }] = await sql<{ value: number }[]>`SELECT value FROM counter WHERE id = 1`;
      assert.equal(value, 16, "16 committed increments, 4 rolled back, none lost");
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "a query outside a transaction never sees another transaction's uncommitted rows",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    const { sql } = db;
    try {
      await sql`CREATE TABLE notes (body text)`;
      let release!: () => void;
      const held = new Promise<void>((resolve) => release = resolve);
      const writer = sql.begin(async (tx) => {
        await tx`INSERT INTO notes VALUES ('draft')`;
        await held;
        throw new Error("abandon");
      }).catch(() => "rolled back");
      const reader = sql<{ count: number }[]>`SELECT count(*)::int AS count FROM notes`;
      setTimeout(release, 20);
      const [{ count }] = await reader;
      assert.equal(count, 0);
      assert.equal(await writer, "rolled back");
      const [{ count: after }] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM notes`;
      assert.equal(after, 0);
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "column names are camel-cased but the keys inside JSON values are kept as stored",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    try {
      const [row] = await db.sql<{ someColumn: { rows_deleted: number; nested: { snake_key: boolean } } }[]>`
        SELECT '{"rows_deleted": 5, "nested": {"snake_key": true}}'::jsonb AS some_column
      `;
      assert.deepEqual(row.someColumn, { rows_deleted: 5, nested: { snake_key: true } });
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "the app's connections run with JIT off, so an overestimated short query is not compiled",
  ...dbTest,
  // PGlite is built without LLVM and ignores startup parameters: it never compiles a query.
  ignore: !TEST_DATABASE_URL,
  fn: async () => {
    const db = await createTestDatabase();
    try {
      const [row] = await db.sql<{ jit: string }[]>`SHOW jit`;
      assert.equal(row.jit, "off");
      const [name] = await db.sql<{ applicationName: string }[]>`SHOW application_name`;
      assert.equal(name.applicationName, "jobwatch");
    } finally {
      await db.close();
    }
  },
});
