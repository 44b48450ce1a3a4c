/**
 * Password hashing with scrypt from node:crypto at OWASP's recommended cost
 * (N=2^17, r=8, p=1), a 16-byte salt per password, and a constant-time check.
 *
 * Hashes are stored as `scrypt$N$r$p$salt$key` (base64), so the cost can be
 * raised later without invalidating existing passwords.
 */
import { Buffer } from "node:buffer";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** OWASP Password Storage Cheat Sheet, scrypt: N=2^17, r=8, p=1. */
export const OWASP_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MIN_PASSWORD_LENGTH = 12;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFKC"),
      salt,
      KEY_LENGTH,
      // 128 * N * r bytes are needed; allow twice that.
      { ...cost, maxmem: 256 * cost.N * cost.r },
      (error, key) => error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password for storage. `cost` is lowered only by tests. */
export async function hashPassword(password: string, cost: ScryptCost = OWASP_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/**
 * Checks a password against a stored hash in constant time. A malformed
 * hash never matches.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every(Number.isInteger) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const actual = await derive(password, salt, { N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | null = null;

/** Prepares the dummy hash at start-up, so even the first unknown-e-mail sign-in takes the usual time. */
export async function warmUpPasswordCheck(): Promise<void> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  await dummyHash;
}

/**
 * Does the work of a real check against a hash of the same cost, for a
 * sign-in with an unknown e-mail, so its timing reveals nothing.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  await verifyPassword(password, await dummyHash);
  return false;
}

/** Explains why a new password is refused, or returns null when it is fine. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `Passwords must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
  }
  if (password.length > 1024) return "Passwords must be at most 1024 characters long.";
  return null;
}
