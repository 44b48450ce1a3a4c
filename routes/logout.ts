import type { Context } from "hono";
import { deleteCookie } from "hono/cookie";
import { sessionIdFrom } from "../lib/auth/middleware.ts";
import { endSession, sessionCookieName } from "../lib/auth/session.ts";
import type { AppEnv } from "../lib/http/context.ts";
import { recordAuditEvent } from "../lib/queries/audit.ts";

/** Ends the session server-side (the cookie alone is not enough) and clears it. */
export async function POST(c: Context<AppEnv>) {
  const id = sessionIdFrom(c);
  const { deps, user } = c.var;
  if (id) await endSession(deps, id);
  if (user) {
    await recordAuditEvent(deps.sql, {
      action: "auth.signed_out",
      occurredAt: deps.now(),
      actorId: user.id,
      actorEmail: user.email,
      targetType: "account",
      targetId: user.email,
      ip: c.var.clientIp,
    });
  }
  deleteCookie(c, sessionCookieName(deps.config.secureCookies), {
    path: "/",
    secure: deps.config.secureCookies,
  });
  // Drop cached signed-in pages from this browser too.
  c.header("Clear-Site-Data", '"cache"');
  return c.redirect("/login", 303);
}
