import { createHash } from "node:crypto";

/** Random secrets, their stored hashes, and id checks, shared by sessions, tokens and queries. */

/** 256 random bits as 43 base64url characters (no padding). */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Lower-case hex SHA-256 of a string. Synchronous node:crypto underneath:
 * every signed-in request hashes its session id, and WebCrypto's digest
 * costs an async round trip each time.
 */
export function sha256Hex(text: string): Promise<string> {
  return Promise.resolve(createHash("sha256").update(text).digest("hex"));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `text` is a UUID; query functions check before asking PostgreSQL, which would reject it. */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}
