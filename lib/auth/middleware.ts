/**
 * Request-level auth: load the session user, guard the admin area, and
 * refuse writes from viewers.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../http/context.ts";
import { HttpError } from "../http/errors.ts";
import { resolveSession, sessionCookieName } from "./session.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/** The session id sent by the browser, if any. */
export function sessionIdFrom(c: Context<AppEnv>): string | undefined {
  return getCookie(c, sessionCookieName(c.var.deps.config.secureCookies));
}

/** Sets `c.var.user` from the session cookie (null when absent or expired). */
export function loadSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = sessionIdFrom(c);
    c.set("user", id ? await resolveSession(c.var.deps, id) : null);
    await next();
  };
}

/** A local path to return to after sign-in, or null if `next` is not one. */
export function safeNextPath(next: string | undefined | null): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
  // Control characters could smuggle a header or a scheme past the check.
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(next)) return null;
  return next;
}

/** Throws 403 unless the user is an admin: viewers may read but not change anything. */
export function requireAdmin(user: { role: "admin" | "viewer" }): void {
  if (user.role !== "admin") {
    throw new HttpError(403, "Viewers have read-only access; ask an admin to do this.");
  }
}

/**
 * Guards /admin pages (redirect to sign-in) and /api/admin routes (JSON
 * 401); viewers may read but every write needs an admin (403).
 */
export function requireUser(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const user = c.var.user;
    if (!user) {
      if (c.req.path.startsWith("/api/")) {
        throw new HttpError(401, "Sign in first: this API needs a session.");
      }
      if (!isSafeMethod(c.req.method)) throw new HttpError(401, "Your session has ended. Sign in again.");
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    if (!isSafeMethod(c.req.method)) requireAdmin(user);
    await next();
  };
}
