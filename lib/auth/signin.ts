/**
 * Sign-in: constant work whether or not the e-mail exists, one message for
 * every failure, and rate limits per account and per client address that
 * hold across instances (failures are counted in audit_events).
 */
import type { AppDeps } from "../http/context.ts";
import { countRecentEvents, recordAuditEvent, settleAuditEvent } from "../queries/audit.ts";
import { getUserByEmail, type User } from "../queries/users.ts";
import { verifyAgainstDummy, verifyPassword } from "./password.ts";
import { startSession } from "./session.ts";

export const SIGN_IN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_ACCOUNT = 10;
export const MAX_FAILURES_PER_IP = 50;
const FAILED = "auth.sign_in_failed";

export type SignInResult =
  | { kind: "ok"; user: User; sessionId: string }
  | { kind: "invalid" }
  | { kind: "limited"; retryAfterSeconds: number; scope: "account" | "address" };

/**
 * The attempt is recorded first, as a failure, and only then are failures
 * counted: parallel guesses see each other, so the limit holds under
 * concurrency. The row then becomes what the attempt turned out to be.
 */
export async function signIn(
  deps: AppDeps,
  attempt: { email: string; password: string; ip: string | null; userAgent: string | null },
): Promise<SignInResult> {
  const email = attempt.email.trim().toLowerCase();
  const now = deps.now();
  const since = new Date(now.getTime() - SIGN_IN_WINDOW_MS);
  const retryAfterSeconds = SIGN_IN_WINDOW_MS / 1000;
  const attemptId = await recordAuditEvent(deps.sql, {
    action: FAILED,
    occurredAt: now,
    targetType: "account",
    targetId: email,
    ip: attempt.ip,
    metadata: { reason: "in progress" },
  });
  const limited = async (scope: "account" | "address"): Promise<SignInResult> => {
    await settleAuditEvent(deps.sql, attemptId, { action: "auth.sign_in_limited", metadata: { scope } });
    return { kind: "limited", retryAfterSeconds, scope };
  };
  if (await countRecentEvents(deps.sql, FAILED, since, { targetId: email }) > MAX_FAILURES_PER_ACCOUNT) {
    return await limited("account");
  }
  if (
    attempt.ip && await countRecentEvents(deps.sql, FAILED, since, { ip: attempt.ip }) > MAX_FAILURES_PER_IP
  ) {
    return await limited("address");
  }

  const user = await getUserByEmail(deps.sql, email);
  const valid = user
    ? await verifyPassword(attempt.password, user.passwordHash)
    : await verifyAgainstDummy(attempt.password);
  if (!user || !valid) {
    await settleAuditEvent(deps.sql, attemptId, {
      action: FAILED,
      actorId: user?.id ?? null,
      metadata: { reason: user ? "wrong password" : "unknown e-mail" },
    });
    return { kind: "invalid" };
  }
  const { passwordHash: _hash, ...publicUser } = user;
  const sessionId = await startSession(deps, publicUser, attempt);
  await settleAuditEvent(deps.sql, attemptId, {
    action: "auth.signed_in",
    actorId: user.id,
    actorEmail: user.email,
  });
  return { kind: "ok", user: publicUser, sessionId };
}
