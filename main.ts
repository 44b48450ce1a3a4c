/**
 * Jobwatch's entry point: configuration → job registry → island bundles →
 * database → migrations → job sync → first admin → HTTP server → Deno.cron tick.
 */
import { createResendChannel, createWebhookChannel } from "./lib/alerts/channels.ts";
import { type AlertHooks, routingFromConfig } from "./lib/alerts/record.ts";
import type { AlertChannel, AlertChannelName } from "./lib/alerts/types.ts";
import { AlertWorker } from "./lib/alerts/worker.ts";
import { createApp } from "./lib/app.ts";
import { DASHBOARD_CACHE_MS, JobSummaryCache } from "./lib/dashboard_cache.ts";
import { warmUpPasswordCheck } from "./lib/auth/password.ts";
import { ensureAdmin } from "./lib/bootstrap.ts";
import { type Config, ConfigError, loadConfig } from "./lib/config.ts";
import { type Database, openDatabase } from "./lib/db/mod.ts";
import { migrate, MigrationError } from "./lib/db/migrate.ts";
import { DatabaseLockedError } from "./lib/db/pglite.ts";
import { EventBus, forwardNotifications, relayNotifications } from "./lib/events.ts";
import { createRegistry, type Job, JobDefinitionError, toDeclaredJob } from "./lib/jobs/define.ts";
import { seedDemoData } from "./lib/jobs/examples/demo_data.ts";
import { loadJobs } from "./lib/jobs/load.ts";
import { Runner } from "./lib/jobs/runner.ts";
import { type SchedulerDeps, tick } from "./lib/jobs/scheduler.ts";
import { createLogger } from "./lib/log.ts";
import { syncJobDefinitions } from "./lib/queries/jobs.ts";
import { ensureIslandsBuilt } from "./lib/render/build.ts";
import { useIslandsManifest } from "./lib/render/page.tsx";

/** Prints one line and exits 1: start-up errors are the operator's to fix, not stack traces. */
function fail(message: string): never {
  console.error(`Jobwatch cannot start: ${message}`);
  Deno.exit(1);
}

/** What an embedding entry point (the benchmark's app) adds to a normal start. */
export interface StartOptions {
  /** Declared next to the jobs of lib/jobs/mod.ts. */
  extraJobs?: Job[];
}

async function start(options: StartOptions = {}): Promise<SchedulerDeps> {
  let config: Config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const log = createLogger(config.logLevel);

  let registry;
  try {
    registry = await loadJobs(config);
    if (options.extraJobs) registry = createRegistry([...registry.values(), ...options.extraJobs]);
  } catch (error) {
    if (error instanceof JobDefinitionError) fail(error.message);
    throw error;
  }

  const { manifest, rebuilt } = await ensureIslandsBuilt().catch((error) =>
    fail(`could not build the island bundles (${error.message}); run deno task build to see why`)
  );
  if (rebuilt) log.info("built island bundles", { islands: Object.keys(manifest.islands).length });
  useIslandsManifest(manifest);

  let db: Database;
  try {
    db = await openDatabase(config);
    const applied = await migrate(db.sql);
    if (applied.length > 0) log.info("applied migrations", { migrations: applied });
  } catch (error) {
    if (error instanceof DatabaseLockedError || error instanceof MigrationError) fail(error.message);
    const where = config.databaseUrl
      ? "the DATABASE_URL database"
      : `the embedded database in ${config.pgliteDir}`;
    fail(`could not open ${where}: ${error instanceof Error ? error.message : String(error)}`);
  }

  const synced = await syncJobDefinitions(db.sql, [...registry.values()].map(toDeclaredJob), new Date());
  for (const [change, ids] of Object.entries(synced)) {
    if (ids.length > 0) log.info(`jobs ${change}`, { jobs: ids });
  }
  if (config.examples) await seedDemoData(db.sql, new Date());

  const admin = await ensureAdmin(db.sql, config);
  const bus = new EventBus();
  const instanceId = `${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const now = () => new Date();
  if (!config.resend.apiKey) {
    log.warn("alert e-mails are off: RESEND_API_KEY is not set, so alerts are recorded as not sent");
  }
  // The worker is made once the server listens, when the app's URL (for links in alerts) is known.
  let worker: AlertWorker | null = null;
  const alerts: AlertHooks = { routing: routingFromConfig(config), queued: () => worker?.wake(), log };
  const runner = new Runner({ sql: db.sql, bus, log, now, instanceId, alerts });
  const jobs = { registry, runner, bus, instanceId, alerts };
  let stopForwarding = () => Promise.resolve();
  if (db.kind === "postgres") {
    await relayNotifications(db.sql, bus, instanceId);
    stopForwarding = forwardNotifications(db.sql, bus, instanceId, log);
  }
  const dashboard = new JobSummaryCache({ sql: db.sql, bus, ttlMs: DASHBOARD_CACHE_MS });
  const scheduler: SchedulerDeps = { sql: db.sql, registry, runner, bus, log, now, instanceId, alerts };
  if (db.kind === "pglite") refreshStatistics = refreshEmbeddedStatistics(db.sql);

  let app: ReturnType<typeof createApp>;
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      if (!Deno.env.get("APP_URL")) {
        config = { ...config, appUrl: `http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}` };
      }
      app = createApp({ config, sql: db.sql, now, log, jobs, dashboard });
      worker = new AlertWorker({ sql: db.sql, log, now, instanceId, channels: alertChannels(config) });
      worker.start();
      deliverAlerts = () => worker!.wake();
      console.log(`Jobwatch is running at ${config.appUrl} (database: ${db.description})`);
      if (admin.kind === "generated") {
        console.log(`Sign in at ${config.appUrl}/login as ${admin.email} with password: ${admin.password}`);
        console.log("This password is shown once. Change it with: deno task user passwd " + admin.email);
      } else if (admin.kind === "configured") {
        console.log(`Sign in at ${config.appUrl}/login as ${admin.email} (the password in ADMIN_PASSWORD)`);
      } else {
        console.log(`Sign in at ${config.appUrl}/login; manage accounts with: deno task user add <email>`);
      }
    },
  }, (request, info) => app.fetch(request, info));

  const shutdown = async () => {
    log.info("shutting down");
    stopping = true;
    // Open event streams never end by themselves; closing the bus ends them, so shutdown can finish.
    bus.close();
    await server.shutdown();
    // Handlers get their signal aborted and 10 s to finish; the rest are failed as interrupted.
    await runner.shutdown(10_000);
    // Undelivered alerts stay in the outbox for the next instance to send.
    await worker?.stop();
    // The interrupted runs' events reach the other instances before the connection goes.
    await stopForwarding();
    await db.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);

  await warmUpPasswordCheck();
  // Reap runs a dead process left behind and catch up what was missed while down.
  await runTick(scheduler);
  return scheduler;
}

let ticking = false;
let stopping = false;
let deliverAlerts: () => void = () => {};

/** The alert channels the configuration turns on. */
function alertChannels(config: Config): Partial<Record<AlertChannelName, AlertChannel>> {
  const channels: Partial<Record<AlertChannelName, AlertChannel>> = {};
  if (config.resend.apiKey) {
    channels.email = createResendChannel({
      apiKey: config.resend.apiKey,
      baseUrl: config.resend.baseUrl,
      from: config.alertFrom,
      appUrl: config.appUrl,
    });
  }
  if (config.alertWebhookUrl) {
    channels.webhook = createWebhookChannel({ url: config.alertWebhookUrl, appUrl: config.appUrl });
  }
  return channels;
}
let refreshStatistics: () => Promise<void> = () => Promise.resolve();

const STATISTICS_INTERVAL_MS = 6 * 3600_000;

/**
 * PGlite runs no autovacuum, so nothing would ever ANALYZE its tables: the
 * planner's row estimates, which the history's "about 1.2 M" total comes
 * from, would stay at zero. The embedded database is analyzed at start-up
 * and every six hours after; PostgreSQL's autovacuum does this by itself.
 */
function refreshEmbeddedStatistics(sql: SchedulerDeps["sql"]): () => Promise<void> {
  let analyzedAt = -Infinity;
  return async () => {
    if (Date.now() - analyzedAt < STATISTICS_INTERVAL_MS) return;
    analyzedAt = Date.now();
    await sql`ANALYZE job_executions, audit_events`;
  };
}

/** One scheduler tick; a tick still running when the next is due is not doubled. */
async function runTick(scheduler: SchedulerDeps): Promise<void> {
  if (ticking || stopping) return;
  ticking = true;
  try {
    const report = await tick(scheduler);
    if (report.started.length + report.skipped.length + report.reaped.length + report.alerts > 0) {
      scheduler.log.info("tick", {
        started: report.started.length,
        skipped: report.skipped.length,
        reaped: report.reaped.length,
        alerts: report.alerts,
      });
    }
    // Not awaited: a slow mail provider must never hold up the next tick.
    deliverAlerts();
    await refreshStatistics().catch((error) =>
      scheduler.log.warn("refreshing the embedded database's statistics failed", {
        error: error instanceof Error ? error.message : String(error),
      })
    );
  } catch (error) {
    scheduler.log.error("tick failed", { error: error instanceof Error ? error.message : String(error) });
  } finally {
    ticking = false;
  }
}

/**
 * Starts Jobwatch without its Deno.cron tick: the start-up tick (reaping and
 * catch-up) still runs, later ones only when the caller runs them. For the
 * benchmark, which measures pages and the runs API without minute ticks.
 */
export function startWithoutCron(options: StartOptions): Promise<SchedulerDeps> {
  return start(options);
}

if (import.meta.main) {
  if (typeof Deno.cron !== "function") {
    fail("Deno.cron is not available; run with --unstable-cron (deno task start does)");
  }
  const ready = start();
  // Registered at the top level, as Deno Deploy requires; the first ticks wait for start-up.
  Deno.cron("jobwatch-tick", "* * * * *", async () => await runTick(await ready));
}
