/**
 * The one `sql` instance: postgres.js against DATABASE_URL, or against the
 * embedded PGlite (served on a loopback port) when DATABASE_URL is unset.
 */
import postgres from "postgres";
import { type EmbeddedServer, startEmbedded } from "./pglite.ts";

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** What a query function needs: the pool or a transaction, so callers can compose them atomically. */
export type Queryable = Sql | TransactionSql;

/** Errors that mean the database cannot be reached right now, not that a query was wrong. */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
]);

/** Whether `error` says the database is down or unreachable (worth a 503, or a retry), not a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code);
}

export interface Database {
  sql: Sql;
  kind: "postgres" | "pglite";
  /** Where it lives, safe to print: the host and database, or the PGlite dir. */
  description: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Pool size; the embedded database always uses one connection. */
  max?: number;
}

/** Options shared by every connection the app makes. */
// deno-lint-ignore ban-types
function clientOptions(max: number): postgres.Options<{}> {
  return {
    max,
    // Column names only. `postgres.camel` would also rename the keys inside JSON
    // values, so a job's result { rows_deleted: 5 } would read back as rowsDeleted.
    transform: { column: { from: postgres.toCamel, to: postgres.fromCamel } },
    onnotice: () => {},
    // JIT off: every query Jobwatch sends is short, and when stale statistics overestimate one
    // (after a burst of jobs came and went) past jit_above_cost, PostgreSQL spends 20+ ms
    // compiling it. The bench measured the 1 ms health read at 15-17 ms that way.
    connection: { application_name: "jobwatch", jit: "off" },
    // A dead database must not hang requests forever.
    connect_timeout: 5,
    // Seconds between reconnect attempts after failures. postgres.js's default grows to 20 s, so
    // after an outage of a minute the pool could wait 20 s to notice the database was back (and
    // queue requests that long). At most 1 s: a stopped server refuses a connection in microseconds.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    idle_timeout: 60,
  };
}

/** Connects to a PostgreSQL server by URL. */
export function connectPostgres(url: string, options: ConnectOptions = {}): Database {
  const sql = postgres(url, clientOptions(options.max ?? 10));
  const parsed = new URL(url);
  return {
    sql,
    kind: "postgres",
    description: `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`,
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * Starts PGlite on `dir` (or `memory://`) behind a loopback socket and
 * connects to it with a pool of one: PGlite is a single session, so one
 * connection keeps every transaction whole; other queries queue behind it.
 */
export async function connectEmbedded(dir: string): Promise<Database> {
  const server: EmbeddedServer = await startEmbedded(dir);
  return wrapEmbedded(server, dir);
}

/** Connects postgres.js to an embedded server that is already running. */
export function wrapEmbedded(server: EmbeddedServer, dir: string): Database {
  const sql = postgres({
    ...clientOptions(1),
    host: "127.0.0.1",
    port: server.port,
    user: "postgres",
    database: "postgres",
  });
  return {
    sql,
    kind: "pglite",
    description: dir === "memory://" ? "embedded PGlite in memory" : `embedded PGlite in ${dir}`,
    close: async () => {
      await sql.end({ timeout: 5 });
      await server.close();
    },
  };
}

/** Opens the database the configuration names. */
export function openDatabase(config: { databaseUrl: string | null; pgliteDir: string }): Promise<Database> {
  return config.databaseUrl
    ? Promise.resolve(connectPostgres(config.databaseUrl))
    : connectEmbedded(config.pgliteDir);
}
