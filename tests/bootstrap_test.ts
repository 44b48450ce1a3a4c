import assert from "node:assert/strict";
import { verifyPassword } from "../lib/auth/password.ts";
import { DEFAULT_ADMIN_EMAIL, ensureAdmin } from "../lib/bootstrap.ts";
import { getUserByEmail } from "../lib/queries/users.ts";
import { insertSession } from "../lib/queries/sessions.ts";
import { dbTest, makeUser } from "./helpers/app.ts";
import { createTestDatabase } from "./helpers/db.ts";

Deno.test({
  name: "with no users and no ADMIN_* settings, start-up creates admin@localhost with a random password once",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    try {
      const first = await ensureAdmin(db.sql, { admin: null });
      assert.equal(first.kind, "generated");
      if (first.kind !== "generated") return;
      assert.equal(first.email, DEFAULT_ADMIN_EMAIL);
      assert.equal(first.password.length, 20);
      const user = (await getUserByEmail(db.sql, DEFAULT_ADMIN_EMAIL))!;
      assert.equal(user.role, "admin");
      assert.ok(await verifyPassword(first.password, user.passwordHash));
      assert.deepEqual(await ensureAdmin(db.sql, { admin: null }), { kind: "existing", users: 1 });
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "ADMIN_EMAIL and ADMIN_PASSWORD create that admin, promote it, and reset its password",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    try {
      const viewer = await makeUser(db, { role: "viewer", email: "ops@example.com" });
      const admin = { email: "ops@example.com", password: "a fresh long password" };
      assert.deepEqual(await ensureAdmin(db.sql, { admin }), {
        kind: "configured",
        email: admin.email,
        changed: true,
      });
      const user = (await getUserByEmail(db.sql, admin.email))!;
      assert.equal(user.role, "admin");
      assert.equal(user.id, viewer.user.id, "the same account, not a second one");
      assert.ok(await verifyPassword(admin.password, user.passwordHash));
      assert.equal(await verifyPassword(viewer.password, user.passwordHash), false);
      assert.deepEqual(await ensureAdmin(db.sql, { admin }), {
        kind: "configured",
        email: admin.email,
        changed: false,
      });
    } finally {
      await db.close();
    }
  },
});

Deno.test({
  name: "rotating ADMIN_PASSWORD ends the sessions signed in with the old one",
  ...dbTest,
  fn: async () => {
    const db = await createTestDatabase();
    try {
      const admin = await makeUser(db, { email: "ops@example.com" });
      await insertSession(db.sql, {
        idHash: "a".repeat(64),
        userId: admin.user.id,
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 3600_000),
        ip: null,
        userAgent: null,
      });
      await ensureAdmin(db.sql, { admin: { email: "ops@example.com", password: "the rotated password" } });
      const [{ count }] = await db.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM sessions`;
      assert.equal(count, 0);
    } finally {
      await db.close();
    }
  },
});
