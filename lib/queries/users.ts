/** Queries on `users`. E-mail addresses are stored lower-cased. */
import type { Queryable } from "../db/mod.ts";

export type Role = "admin" | "viewer";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

/** Finds a user by e-mail, case-insensitively; null when there is none. */
export async function getUserByEmail(sql: Queryable, email: string): Promise<UserWithHash | null> {
  const [user] = await sql<UserWithHash[]>`
    SELECT id, email, name, role, created_at, password_hash
    FROM users
    WHERE lower(email) = lower(${email})
  `;
  return user ?? null;
}

export async function countUsers(sql: Queryable): Promise<number> {
  const [{ count }] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM users`;
  return count;
}

/**
 * Creates a user, or updates the password, role and name of the user with
 * that e-mail. Returns the user and whether it was created.
 */
export async function upsertUser(
  sql: Queryable,
  user: { email: string; name: string; role: Role; passwordHash: string },
): Promise<{ user: User; created: boolean }> {
  const [row] = await sql<(User & { created: boolean })[]>`
    INSERT INTO users (email, name, role, password_hash)
    VALUES (${user.email.toLowerCase()}, ${user.name}, ${user.role}, ${user.passwordHash})
    ON CONFLICT ((lower(email))) DO UPDATE
      SET name = EXCLUDED.name,
          role = EXCLUDED.role,
          password_hash = EXCLUDED.password_hash,
          updated_at = now()
    RETURNING id, email, name, role, created_at, (xmax = 0) AS created
  `;
  const { created, ...rest } = row;
  return { user: rest, created };
}

/** Replaces a user's password; returns false when there is no such user. */
export async function setPasswordHash(
  sql: Queryable,
  email: string,
  passwordHash: string,
): Promise<User | null> {
  const [user] = await sql<User[]>`
    UPDATE users SET password_hash = ${passwordHash}, updated_at = now()
    WHERE lower(email) = lower(${email})
    RETURNING id, email, name, role, created_at
  `;
  return user ?? null;
}

/** Deletes a user (their sessions go with them); null when there was none. */
export async function deleteUser(sql: Queryable, email: string): Promise<User | null> {
  const [user] = await sql<User[]>`
    DELETE FROM users WHERE lower(email) = lower(${email})
    RETURNING id, email, name, role, created_at
  `;
  return user ?? null;
}

export async function countAdmins(sql: Queryable): Promise<number> {
  const [{ count }] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM users WHERE role = 'admin'
  `;
  return count;
}

/** Every user, by e-mail. */
export async function listUsers(sql: Queryable): Promise<User[]> {
  return await sql<User[]>`
    SELECT id, email, name, role, created_at
    FROM users
    ORDER BY email
  `;
}

/** Creates a user; null when the e-mail is taken (unlike `upsertUser`, never overwrites). */
export async function insertUser(
  sql: Queryable,
  user: { email: string; name: string; role: Role; passwordHash: string },
): Promise<User | null> {
  const [row] = await sql<User[]>`
    INSERT INTO users (email, name, role, password_hash)
    VALUES (${user.email.toLowerCase()}, ${user.name}, ${user.role}, ${user.passwordHash})
    ON CONFLICT ((lower(email))) DO NOTHING
    RETURNING id, email, name, role, created_at
  `;
  return row ?? null;
}

/**
 * A deliberately loose e-mail check (something@something, no spaces): it
 * must accept admin@localhost, which strict validators refuse.
 */
export function isEmailAddress(text: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(text);
}
