/**
 * Sign-in: constant work whether or not the e-mail exists, one message for
 * every failure, and rate limits per account and per client address that
 * hold across instances (failures are counted in audit_events).
 */
import type { AppDeps } from "../http/context.ts";
import { countRecentEvents, recordAuditEvent } from "../queries/audit.ts";
import { getUserByEmail, type User } from "../queries/users.ts";
import { verifyAgainstDummy, verifyPassword } from "./password.ts";
import { startSession } from "./session.ts";

export const SIGN_IN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_ACCOUNT = 10;
export const MAX_FAILURES_PER_IP = 50;

export type SignInResult =
  | { kind: "ok"; user: User; sessionId: string }
  | { kind: "invalid" }
  | { kind: "limited"; retryAfterSeconds: number; scope: "account" | "address" };

export async function signIn(
  deps: AppDeps,
  attempt: { email: string; password: string; ip: string | null; userAgent: string | null },
): Promise<SignInResult> {
  const email = attempt.email.trim().toLowerCase();
  const since = new Date(deps.now().getTime() - SIGN_IN_WINDOW_MS);
  const retryAfterSeconds = SIGN_IN_WINDOW_MS / 1000;
  const accountFailures = await countRecentEvents(deps.sql, "auth.sign_in_failed", since, {
    targetId: email,
  });
  if (accountFailures >= MAX_FAILURES_PER_ACCOUNT) {
    return { kind: "limited", retryAfterSeconds, scope: "account" };
  }
  if (attempt.ip) {
    const ipFailures = await countRecentEvents(deps.sql, "auth.sign_in_failed", since, { ip: attempt.ip });
    if (ipFailures >= MAX_FAILURES_PER_IP) return { kind: "limited", retryAfterSeconds, scope: "address" };
  }

  const user = await getUserByEmail(deps.sql, email);
  const valid = user
    ? await verifyPassword(attempt.password, user.passwordHash)
    : await verifyAgainstDummy(attempt.password);
  if (!user || !valid) {
    await recordAuditEvent(deps.sql, {
      action: "auth.sign_in_failed",
      occurredAt: deps.now(),
      actorId: user?.id ?? null,
      targetType: "account",
      targetId: email,
      ip: attempt.ip,
      metadata: { reason: user ? "wrong password" : "unknown e-mail" },
    });
    return { kind: "invalid" };
  }
  const { passwordHash: _hash, ...publicUser } = user;
  const sessionId = await startSession(deps, publicUser, attempt);
  await recordAuditEvent(deps.sql, {
    action: "auth.signed_in",
    occurredAt: deps.now(),
    actorId: user.id,
    actorEmail: user.email,
    targetType: "account",
    targetId: email,
    ip: attempt.ip,
  });
  return { kind: "ok", user: publicUser, sessionId };
}
