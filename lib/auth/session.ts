/**
 * Sessions: a random 256-bit id in an HttpOnly cookie; only its SHA-256 is
 * stored. Sessions expire after an idle timeout and an absolute lifetime.
 */
import type { AppDeps } from "../http/context.ts";
import {
  deleteSession,
  getSessionUser,
  insertSession,
  type SessionUser,
  touchSession,
} from "../queries/sessions.ts";
import type { User } from "../queries/users.ts";
import { randomSecret, sha256Hex } from "../ids.ts";

/** `last_seen_at` is written at most this often, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

/** The cookie name; `__Host-` (which requires Secure) when served over https. */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-jobwatch_session" : "jobwatch_session";
}

export const newSessionId = randomSecret;
export const hashSessionId = sha256Hex;

/** Creates a session for a user and returns its id (the cookie value). */
export async function startSession(
  deps: AppDeps,
  user: User,
  client: { ip: string | null; userAgent: string | null },
): Promise<string> {
  const id = newSessionId();
  const now = deps.now();
  await insertSession(deps.sql, {
    idHash: await hashSessionId(id),
    userId: user.id,
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.config.sessionMaxMs),
    ip: client.ip,
    userAgent: client.userAgent?.slice(0, 400) ?? null,
  });
  return id;
}

/** The user of a live session, refreshing its idle timer; null otherwise. */
export async function resolveSession(deps: AppDeps, id: string): Promise<SessionUser | null> {
  // Ids we issue are 43 base64url characters; anything else is forged.
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const now = deps.now();
  const user = await getSessionUser(deps.sql, await hashSessionId(id), deps.config.sessionIdleMs, now);
  if (user && now.getTime() - user.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    await touchSession(deps.sql, user.sessionIdHash, now);
  }
  return user;
}

export async function endSession(deps: AppDeps, id: string): Promise<void> {
  await deleteSession(deps.sql, await hashSessionId(id));
}
