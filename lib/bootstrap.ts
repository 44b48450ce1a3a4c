/**
 * The first admin: ADMIN_EMAIL/ADMIN_PASSWORD create or update that admin at
 * every start; with no users at all and no ADMIN_* set, an admin@localhost
 * with a random password is created and its password shown once.
 */
import { hashPassword, verifyPassword } from "./auth/password.ts";
import type { Config } from "./config.ts";
import type { Sql } from "./db/mod.ts";
import { deleteUserSessions } from "./queries/sessions.ts";
import { countUsers, getUserByEmail, upsertUser } from "./queries/users.ts";

export type AdminBootstrap =
  | { kind: "configured"; email: string; changed: boolean }
  | { kind: "generated"; email: string; password: string }
  | { kind: "existing"; users: number };

export const DEFAULT_ADMIN_EMAIL = "admin@localhost";

/** A random password of 20 characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  // 256 % 56 != 0 leaves a slight bias; at 20 characters it does not matter.
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

export async function ensureAdmin(sql: Sql, config: Pick<Config, "admin">): Promise<AdminBootstrap> {
  if (config.admin) {
    const { email, password } = config.admin;
    const existing = await getUserByEmail(sql, email);
    if (existing && existing.role === "admin" && await verifyPassword(password, existing.passwordHash)) {
      return { kind: "configured", email, changed: false };
    }
    const { user } = await upsertUser(sql, {
      email,
      name: existing?.name ?? "Admin",
      role: "admin",
      passwordHash: await hashPassword(password),
    });
    // A rotated ADMIN_PASSWORD (say, after a leak) must end the sessions made with the old one.
    await deleteUserSessions(sql, user.id);
    return { kind: "configured", email, changed: true };
  }
  const users = await countUsers(sql);
  if (users > 0) return { kind: "existing", users };
  const password = generatePassword();
  await upsertUser(sql, {
    email: DEFAULT_ADMIN_EMAIL,
    name: "Admin",
    role: "admin",
    passwordHash: await hashPassword(password),
  });
  return { kind: "generated", email: DEFAULT_ADMIN_EMAIL, password };
}
