/**
 * The Hono application: middleware in order, the route table, and the one
 * place where errors become responses.
 */
import { JobSummaryCache } from "./dashboard_cache.ts";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compressResponses } from "./http/compress.ts";
import { getConnInfo } from "hono/deno";
import { requestId } from "hono/request-id";
import { h, type VNode } from "preact";
import { ErrorPage } from "../components/ErrorPage.tsx";
import config from "../fresh.config.ts";
import { type Route, routes as defaultRoutes } from "../routes/mod.ts";
import { loadSession, requireUser } from "./auth/middleware.ts";
import { isDatabaseUnavailable } from "./db/mod.ts";
import { HealthMonitor } from "./health/monitor.ts";
import type { AppDeps, AppEnv } from "./http/context.ts";
import { HttpError, wantsJson } from "./http/errors.ts";
import { renderPage } from "./http/page.ts";
import { sameOriginWrites, securityHeaders } from "./http/security.ts";
import { staticFiles } from "./http/static.ts";

/** Health, metrics and badges: answered without looking at the session. */
const PROBE_PATHS = /^\/(health(\/|$)|api\/health\/|metrics$|badge\/)/;

/** Request bodies larger than this are refused with 413 before they are read. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * SQLSTATE class 22, "data exception": a value PostgreSQL refused (a NUL in
 * text, a date out of range, bad input syntax). The edges validate input;
 * this is the backstop that keeps a value they missed from becoming a 500.
 */
function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code);
}

function clientIp(c: Context<AppEnv>, trustProxy: boolean): string | null {
  if (trustProxy) {
    // The proxy appends the address it saw; entries to its left came from the client and can be forged.
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // in-process requests (tests) have no socket
  }
}

function errorResponse(
  c: Context<AppEnv>,
  status: number,
  message: string,
  details: Record<string, unknown> = {},
) {
  if (wantsJson(c.req.path, c.req.header("accept"))) {
    return c.json({ error: message, ...details }, status as 400);
  }
  const page = h(ErrorPage, { status, message, requestId: status >= 500 ? c.var.requestId : undefined });
  return renderPage(c, page as VNode, {
    title: status === 404 ? "Not found" : "Error",
    status: status as 400,
  });
}

/**
 * The methods the route table declares for a concrete path (GET implies
 * HEAD); empty when no route has that path.
 */
export function declaredMethods(routes: Route[]): (path: string) => string[] {
  const patterns = routes.map((route) => ({
    method: route.method,
    pattern: new RegExp(
      `^${route.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/]+")}$`,
    ),
  }));
  return (path) => {
    const methods = new Set<string>(
      patterns.filter(({ pattern }) => pattern.test(path)).map(({ method }) => method),
    );
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  };
}

/**
 * Signed-in pages and data must not outlive the session in the browser's
 * cache: without this, Back after signing out shows the dashboard again.
 */
function noStore(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  };
}

export function createApp(given: AppDeps, routes: Route[] = defaultRoutes): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const deps: AppDeps = {
    ...given,
    health: given.health ??
      new HealthMonitor({ sql: given.sql, now: given.now, ttlMs: given.config.healthCacheSeconds * 1000 }),
    dashboard: given.dashboard ?? new JobSummaryCache({ sql: given.sql, bus: given.jobs.bus }),
  };

  app.use(requestId());
  app.use(async (c, next) => {
    c.set("deps", deps);
    c.set("user", null);
    c.set("clientIp", clientIp(c, deps.config.trustProxy));
    await next();
  });
  app.use(securityHeaders(deps.config.secureCookies));
  app.use(async (c, next) => {
    // No text Jobwatch stores or looks up may contain NUL (PostgreSQL refuses it), so no URL may either.
    if (/%00/.test(c.req.url)) throw new HttpError(400, "URLs cannot contain NUL characters (%00).");
    await next();
  });
  app.use(compressResponses());
  app.use(bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      errorResponse(c as Context<AppEnv>, 413, `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB.`),
  }));

  app.get("/static/*", staticFiles(config.staticDir));
  app.on("HEAD", "/static/*", staticFiles(config.staticDir));

  app.use(sameOriginWrites(deps.config.appUrl));
  // Probes never act as a user: a stale cookie must not cost them a session lookup (or, with the
  // database down, a wait for it) before their own bounded answer.
  const session = loadSession();
  app.use((c, next) => PROBE_PATHS.test(c.req.path) ? next() : session(c, next));
  app.use("/admin/*", requireUser(), noStore());
  app.use("/api/admin/*", requireUser(), noStore());

  // The path prefixes above guard the admin area as a whole; a route declared for
  // signed-in users is guarded wherever it lives.
  for (const route of routes) {
    if (route.access === "user") app.on(route.method, route.path, requireUser(), noStore(), route.handler);
    else app.on(route.method, route.path, route.handler);
  }

  const methodsOf = declaredMethods(routes);
  app.notFound((c) => {
    const allowed = methodsOf(c.req.path);
    // A route that answers its own "not found" (c.notFound()) accepts the method: that is a 404.
    if (allowed.length === 0 || allowed.includes(c.req.method)) {
      return errorResponse(c, 404, `There is no page at ${c.req.path.slice(0, 200)}.`);
    }
    c.header("Allow", allowed.join(", "));
    return errorResponse(
      c,
      405,
      `${c.req.method} is not supported here; this address accepts ${allowed.join(", ")}.`,
    );
  });

  app.onError((error, c) => {
    if (error instanceof HttpError) return errorResponse(c, error.status, error.message, error.details);
    if (isRefusedValue(error)) {
      deps.log.warn("the database refused a value", {
        requestId: c.var.requestId,
        path: c.req.path,
        code: (error as unknown as { code: string }).code,
      });
      return errorResponse(c, 400, "The request contains a value Jobwatch cannot store or look up.");
    }
    if (isDatabaseUnavailable(error)) {
      deps.log.warn("database unavailable", {
        path: c.req.path,
        code: (error as unknown as { code: string }).code,
      });
      // Clients and monitors may ask again shortly; the pool reconnects within a second of its return.
      c.header("Retry-After", "5");
      return errorResponse(
        c,
        503,
        "The database is unavailable right now. Jobwatch will recover when it returns.",
      );
    }
    deps.log.error("request failed", {
      requestId: c.var.requestId,
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return errorResponse(c, 500, "Jobwatch hit an unexpected error. It has been logged; please try again.");
  });

  return app;
}
