/**
 * Jobwatch's entry point: configuration → database → migrations → first
 * admin → island bundles → HTTP server.
 */
import { createApp } from "./lib/app.ts";
import { ensureAdmin } from "./lib/bootstrap.ts";
import { type Config, ConfigError, loadConfig } from "./lib/config.ts";
import { type Database, openDatabase } from "./lib/db/mod.ts";
import { migrate, MigrationError } from "./lib/db/migrate.ts";
import { DatabaseLockedError } from "./lib/db/pglite.ts";
import { createLogger } from "./lib/log.ts";
import { ensureIslandsBuilt } from "./lib/render/build.ts";
import { useIslandsManifest } from "./lib/render/page.tsx";

/** Prints one line and exits 1: start-up errors are the operator's to fix, not stack traces. */
function fail(message: string): never {
  console.error(`Jobwatch cannot start: ${message}`);
  Deno.exit(1);
}

async function start(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const log = createLogger(config.logLevel);

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

  const admin = await ensureAdmin(db.sql, config);

  let app: ReturnType<typeof createApp>;
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      if (!Deno.env.get("APP_URL")) {
        config = { ...config, appUrl: `http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}` };
      }
      app = createApp({ config, sql: db.sql, now: () => new Date(), log });
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
    await server.shutdown();
    await db.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
}

if (import.meta.main) await start();
