/** Secure headers and the same-origin check for state-changing requests. */
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import { isSafeMethod } from "../auth/middleware.ts";
import { sessionCookieName } from "../auth/session.ts";
import type { AppEnv } from "./context.ts";
import { HttpError } from "./errors.ts";

const CSP_DIRECTIVES: [string, string][] = [
  ["default-src", "'self'"],
  ["script-src", "'self'"],
  ["style-src", "'self'"],
  ["img-src", "'self' data:"],
  ["connect-src", "'self'"],
  ["font-src", "'self'"],
  ["object-src", "'none'"],
  ["base-uri", "'none'"],
  ["form-action", "'self'"],
  ["frame-ancestors", "'none'"],
];

/**
 * The Content-Security-Policy: only our own scripts (no inline script at
 * all), our own style sheets plus, on a page, its one style tag allowed by
 * its hash (`styleSource`), no framing, no plugins.
 */
export function contentSecurityPolicy(styleSource?: string): string {
  return CSP_DIRECTIVES.map(([name, value]) =>
    `${name} ${name === "style-src" && styleSource ? `${value} ${styleSource}` : value}`
  ).join("; ");
}

const DEFAULT_CSP = contentSecurityPolicy();

/** The security headers; a response that set its own CSP (a page, for its style hash) keeps it. */
export function securityHeaders(https: boolean): MiddlewareHandler<AppEnv> {
  const others = secureHeaders({
    contentSecurityPolicy: undefined,
    xFrameOptions: "DENY",
    xContentTypeOptions: "nosniff",
    referrerPolicy: "same-origin",
    strictTransportSecurity: https ? "max-age=31536000; includeSubDomains" : false,
    crossOriginResourcePolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
  return async (c, next) => {
    await others(c, next);
    if (!c.res.headers.has("Content-Security-Policy")) {
      c.res.headers.set("Content-Security-Policy", DEFAULT_CSP);
    }
  };
}

/**
 * CSRF protection without tokens: a state-changing request that carries a
 * session cookie must come from our own origin, shown by the Origin header
 * or, failing that, by Sec-Fetch-Site: same-origin. With neither, it is
 * refused. Sign-in posts (no session yet) are checked when they carry an
 * Origin, so another site cannot sign a browser in to an account it chose.
 */
export function sameOriginWrites(appUrl: string): MiddlewareHandler<AppEnv> {
  const appOrigin = new URL(appUrl).origin;
  return async (c, next) => {
    if (isSafeMethod(c.req.method)) return await next();
    const hasSession = getCookie(c, sessionCookieName(c.var.deps.config.secureCookies)) !== undefined;
    const isSignIn = c.req.path === "/login";
    if (!hasSession && !isSignIn) return await next();
    const origin = c.req.header("origin");
    const fetchSite = c.req.header("sec-fetch-site");
    if (origin !== undefined) {
      if (origin === appOrigin || origin === new URL(c.req.url).origin) return await next();
      throw new HttpError(
        403,
        `Refused a cross-origin request: it came from ${
          origin.slice(0, 100)
        }, not from ${appOrigin}. If you use Jobwatch at another address, set APP_URL to it.`,
      );
    }
    if (fetchSite !== undefined) {
      if (fetchSite === "same-origin") return await next();
      throw new HttpError(
        403,
        `Refused a ${fetchSite.slice(0, 20)} request: writes must come from Jobwatch's own pages.`,
      );
    }
    if (isSignIn && !hasSession) return await next();
    throw new HttpError(
      403,
      "Refused a write with a session cookie but no Origin header; scripts must send Origin: " + appOrigin,
    );
  };
}
