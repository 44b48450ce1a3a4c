/**
 * An in-process app on an isolated database, with personas (an admin, a
 * viewer, a stranger) and a fake clock. Route tests call `app.request()`.
 */
import { JobSummaryCache } from "../../lib/dashboard_cache.ts";
import { createApp } from "../../lib/app.ts";
import { hashPassword } from "../../lib/auth/password.ts";
import { type Config, loadConfig } from "../../lib/config.ts";
import type { AppDeps } from "../../lib/http/context.ts";
import { createMemoryLogger } from "../../lib/log.ts";
import { upsertUser, type User } from "../../lib/queries/users.ts";
import { ensureIslandsBuilt } from "../../lib/render/build.ts";
import { useIslandsManifest } from "../../lib/render/page.tsx";
import { EventBus } from "../../lib/events.ts";
import { createRegistry, type Job, toDeclaredJob } from "../../lib/jobs/define.ts";
import { Runner } from "../../lib/jobs/runner.ts";
import { HealthMonitor } from "../../lib/health/monitor.ts";
import type { JobsRuntime } from "../../lib/jobs/trigger.ts";
import { syncJobDefinitions } from "../../lib/queries/jobs.ts";
import type { Route } from "../../routes/mod.ts";
import { routes as defaultRoutes } from "../../routes/mod.ts";
import type { Sql } from "../../lib/db/mod.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";

export { dbTest } from "./db.ts";

/** Cheap scrypt for test users; production always uses OWASP's cost. */
export const TEST_COST = { N: 2 ** 10, r: 8, p: 1 };
export const ORIGIN = "http://localhost";

export interface Persona {
  user: User;
  email: string;
  password: string;
}

let built: Promise<void> | null = null;

/** Builds the island bundles once per test process. */
export function ensureBuilt(): Promise<void> {
  built ??= ensureIslandsBuilt().then(({ manifest }) => useIslandsManifest(manifest));
  return built;
}

export async function makeUser(
  db: { sql: TestDatabase["sql"] },
  options: { role?: "admin" | "viewer"; email?: string; name?: string; password?: string } = {},
): Promise<Persona> {
  const role = options.role ?? "admin";
  const email = options.email ?? `${role}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = options.password ?? "correct horse battery staple";
  const { user } = await upsertUser(db.sql, {
    email,
    name: options.name ?? (role === "admin" ? "Ada Admin" : "Vic Viewer"),
    role,
    passwordHash: await hashPassword(password, TEST_COST),
  });
  return { user, email, password };
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  db: TestDatabase;
  deps: AppDeps;
  log: ReturnType<typeof createMemoryLogger>;
  clock: { now: Date; advance(ms: number): void };
  /** Signs a persona in through POST /login and returns its Cookie header. */
  signIn(persona: Persona): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    routes?: Route[];
    jobs?: Job[];
    /** How long health answers are reused; 0 (default) so each request sees the test's latest rows. */
    healthCacheMs?: number;
    /** How long the dashboard's reads are reused (as in main.ts); 0 (default) reads on every request. */
    dashboardCacheMs?: number;
    /** Where the fake clock starts (default: the real time); jobs are synced at that time. */
    now?: Date;
    /** The app's own connection to the test database (default: the test's); the caller closes it. */
    appSql?: (db: TestDatabase) => Sql;
  } = {},
): Promise<TestApp> {
  await ensureBuilt();
  const db = await createTestDatabase();
  const config: Config = loadConfig({ APP_URL: ORIGIN, PGLITE_DIR: "memory://", ...options.env });
  const log = createMemoryLogger();
  const clock = {
    now: options.now ?? new Date(),
    advance(ms: number) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
  const now = () => clock.now;
  const sql = options.appSql?.(db) ?? db.sql;
  const bus = new EventBus();
  const instanceId = `test-${crypto.randomUUID().slice(0, 8)}`;
  const jobs: JobsRuntime = {
    registry: createRegistry(options.jobs ?? []),
    runner: new Runner({ sql, bus, log, now, instanceId }),
    bus,
    instanceId,
  };
  if (options.jobs) await syncJobDefinitions(db.sql, options.jobs.map(toDeclaredJob), clock.now);
  const health = new HealthMonitor({ sql, now, log, ttlMs: options.healthCacheMs ?? 0 });
  const dashboard = new JobSummaryCache({ sql, bus, ttlMs: options.dashboardCacheMs ?? 0 });
  const deps: AppDeps = { config, sql, now, log, jobs, health, dashboard };
  const app = createApp(deps, options.routes ?? defaultRoutes);
  return {
    app,
    db,
    deps,
    log,
    clock,
    async signIn(persona) {
      const response = await app.request("/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ email: persona.email, password: persona.password }),
      });
      if (response.status !== 303) throw new Error(`sign-in failed with ${response.status}`);
      const cookie = response.headers.get("set-cookie")!;
      return cookie.split(";")[0];
    },
    close: async () => {
      await jobs.runner.settle();
      await db.close();
    },
  };
}
