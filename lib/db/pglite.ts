/**
 * The embedded database: PGlite served over the PostgreSQL wire protocol on
 * a random loopback port, so the app uses the same driver as in production.
 *
 * PGlite is single-process: a lock file beside the data directory records
 * which process serves it, so a second server or the user CLI can say so
 * clearly instead of corrupting it.
 */
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedServer {
  port: number;
  db: PGlite;
  close(): Promise<void>;
}

export class DatabaseLockedError extends Error {
  override name = "DatabaseLockedError";
}

interface LockInfo {
  pid: number;
  port: number;
}

/** The lock file for a PGlite data directory. */
export function lockPath(dir: string): string {
  return `${dir.replace(/\/+$/, "")}.lock`;
}

/**
 * Returns the process that holds `dir`, or null when none does. A lock
 * whose port no longer answers is stale (the holder died) and is ignored.
 */
export async function embeddedHolder(dir: string): Promise<LockInfo | null> {
  let lock: LockInfo;
  try {
    lock = JSON.parse(await Deno.readTextFile(lockPath(dir)));
  } catch {
    return null;
  }
  if (!Number.isInteger(lock.port) || lock.pid === Deno.pid) return null;
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: lock.port });
    conn.close();
    return lock;
  } catch {
    return null;
  }
}

/** Starts PGlite on `dir` and serves it on 127.0.0.1 at a free port. */
export async function startEmbedded(dir: string): Promise<EmbeddedServer> {
  const inMemory = dir.startsWith("memory://");
  if (!inMemory) {
    const holder = await embeddedHolder(dir);
    if (holder) {
      throw new DatabaseLockedError(
        `the embedded database in ${dir} is in use by another Jobwatch process (pid ${holder.pid}); stop it first, or set DATABASE_URL to use PostgreSQL`,
      );
    }
    await Deno.mkdir(dir, { recursive: true });
  }
  const db = await PGlite.create(inMemory ? "memory://" : dir);
  return await serveEmbedded(db, inMemory ? null : dir);
}

/** Serves an open PGlite instance on a loopback port. */
export async function serveEmbedded(db: PGlite, dir: string | null): Promise<EmbeddedServer> {
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1" });
  await server.start();
  const address = (server as unknown as { server: { address(): { port: number } } }).server
    .address();
  const port = address.port;
  if (dir) {
    await Deno.writeTextFile(lockPath(dir), JSON.stringify({ pid: Deno.pid, port }));
  }
  let closed = false;
  return {
    port,
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      await server.stop();
      await db.close();
      if (dir) await Deno.remove(lockPath(dir)).catch(() => {});
    },
  };
}
