/**
 * The floor under the ingest scenario: a server that takes the same two
 * requests per run as the runs API and does nothing but the INSERT and the
 * UPDATE they imply, on the same job_executions table (its indexes, its
 * counting triggers). No token, no checks, no alerts, no events, no
 * framework. The bench drives it with the same load after Jobwatch, so the
 * report can say how much of an external run's cost is the table's and how
 * much is Jobwatch's.
 *
 *   POST /api/runs/:jobId/start    { periodKey }  → 201 { id }
 *   POST /api/runs/:id/complete    { result? }    → 200 { id, status }
 */
import { openDatabase } from "../lib/db/mod.ts";

const db = await openDatabase({
  databaseUrl: Deno.env.get("DATABASE_URL") ?? null,
  pgliteDir: Deno.env.get("PGLITE_DIR") ?? "memory://",
});
const { sql } = db;
const START = /^\/api\/runs\/([^/]+)\/start$/;
const COMPLETE = /^\/api\/runs\/([0-9a-f-]{36})\/complete$/;

async function handle(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  const start = START.exec(path);
  if (request.method === "POST" && start) {
    const { periodKey } = await request.json() as { periodKey: string };
    const [row] = await sql<{ id: string }[]>`
      INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at)
      VALUES (${start[1]}, ${periodKey}, ${crypto.randomUUID()}, 'running', 'external', now())
      RETURNING id
    `;
    return Response.json({ id: row.id }, { status: 201 });
  }
  const complete = COMPLETE.exec(path);
  if (request.method === "POST" && complete) {
    const { result } = await request.json() as { result?: unknown };
    await sql`
      UPDATE job_executions
      SET status = 'completed', completed_at = now(), result = ${
      result === undefined ? null : sql.json(result as never)
    }
      WHERE id = ${complete[1]} AND status = 'running'
    `;
    return Response.json({ id: complete[1], status: "completed" });
  }
  return new Response("not found\n", { status: 404 });
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT")),
  onListen: ({ port }) => console.log(`The bare writer is running at http://127.0.0.1:${port}`),
}, handle);

Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  await db.close();
  Deno.exit(0);
});
