/**
 * What every CLI command does before its own work: read the configuration,
 * open and migrate the database (and, for commands that need job rows, sync
 * the job registry as the server does), printing one clear line on failure.
 */
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { UsageError, usageFailure } from "./args.ts";
import { type Database, openDatabase } from "../db/mod.ts";
import { migrate, MigrationError } from "../db/migrate.ts";
import { DatabaseLockedError, embeddedHolder } from "../db/pglite.ts";
import { JobDefinitionError, toDeclaredJob } from "../jobs/define.ts";
import { loadJobs } from "../jobs/load.ts";
import { insertMissingJobDefinitions } from "../queries/jobs.ts";

/** Opens the configured database, or prints why not and returns null. */
export async function openCliDatabase(
  options: { syncJobs: boolean; printError: (line: string) => void },
): Promise<{ config: Config; db: Database } | null> {
  let config: Config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    options.printError(`Jobwatch: ${error.message}`);
    return null;
  }
  let declared;
  try {
    declared = options.syncJobs ? [...(await loadJobs(config)).values()].map(toDeclaredJob) : null;
  } catch (error) {
    if (!(error instanceof JobDefinitionError)) throw error;
    options.printError(`Jobwatch: ${error.message}`);
    return null;
  }
  let db: Database | null = null;
  try {
    db = await openDatabase(config);
    await migrate(db.sql);
    // A fresh database gets the job rows; existing ones are the running server's to update or retire.
    if (declared) await insertMissingJobDefinitions(db.sql, declared, new Date());
    return { config, db };
  } catch (error) {
    await db?.close().catch(() => {});
    options.printError(`Jobwatch: ${await openFailure(error, config)}`);
    return null;
  }
}

async function openFailure(error: unknown, config: Config): Promise<string> {
  if (error instanceof DatabaseLockedError) {
    const holder = await embeddedHolder(config.pgliteDir);
    return `a running Jobwatch server${
      holder ? ` (pid ${holder.pid})` : ""
    } holds the embedded database in ${config.pgliteDir}, and PGlite allows one process at a time. Stop the server first and run this command again, or set DATABASE_URL to use PostgreSQL.`;
  }
  if (error instanceof MigrationError) return error.message;
  const where = config.databaseUrl
    ? "the DATABASE_URL database"
    : `the embedded database in ${config.pgliteDir}`;
  return `could not open ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * The whole life of a CLI command: parse (usage errors exit 2, help exits 0
 * without touching the database), open the database, run, close.
 */
export async function runCli<Command extends { kind: string }>(
  args: string[],
  cli: {
    usage: string;
    parse: (args: string[]) => Command;
    syncJobs: boolean;
    execute: (command: Command, context: CliContext) => Promise<number>;
  },
): Promise<number> {
  const print = (line: string) => console.log(line);
  const printError = (line: string) => console.error(line);
  let command: Command;
  try {
    command = cli.parse(args);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error, cli.usage, printError);
    throw error;
  }
  if (command.kind === "help") {
    print(cli.usage);
    return 0;
  }
  const opened = await openCliDatabase({ syncJobs: cli.syncJobs, printError });
  if (!opened) return 1;
  try {
    return await cli.execute(command, { ...opened, print, printError });
  } finally {
    await opened.db.close();
  }
}

export interface CliContext {
  config: Config;
  db: Database;
  print: (line: string) => void;
  printError: (line: string) => void;
}
