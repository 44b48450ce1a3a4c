/**
 * For uptime monitors and orchestrators; no session, nothing secret, never
 * a stack trace, and always `Cache-Control: no-store`.
 *
 * - GET /health/jobs (and /api/health/jobs, where the seed had it): 200
 *   when every critical job is healthy, else 503; `?job=<id>` for one job.
 *   Behind HEALTH_TOKEN when set (`?token=` or `Authorization: Bearer`).
 * - GET /health: the process answers.
 * - GET /health/ready: the database answers and every migration is applied.
 */
import type { Context } from "hono";
import { timingSafeEqual } from "node:crypto";
import { UNAVAILABLE } from "../lib/health/monitor.ts";
import type { AppEnv } from "../lib/http/context.ts";
import { sharedJson } from "../lib/http/shared_json.ts";

const MAX_JOB_ID_CHARS = 100;

function noStore(c: Context<AppEnv>): void {
  c.header("Cache-Control", "no-store");
}

/** Whether the request carries `expected` as `?token=` or a Bearer token; compared in constant time. */
export function carriesToken(c: Context<AppEnv>, expected: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const given = bearer ?? c.req.query("token") ?? "";
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** GET /health/jobs: every job's health, or one job's with ?job=. */
export async function jobs(c: Context<AppEnv>) {
  noStore(c);
  const { config, health } = c.var.deps;
  if (config.healthToken !== null && !carriesToken(c, config.healthToken)) {
    return c.json({ error: "This health check is private: send ?token=… or Authorization: Bearer …." }, 401);
  }
  const jobId = c.req.query("job");
  if (jobId !== undefined && (jobId === "" || jobId.length > MAX_JOB_ID_CHARS)) {
    return c.json({ error: `job must be a job id of 1 to ${MAX_JOB_ID_CHARS} characters.` }, 400);
  }
  const report = await health!.report();
  if (report === UNAVAILABLE) {
    return c.json(
      { healthy: false, error: "database unavailable", checkedAt: new Date().toISOString() },
      503,
    );
  }
  if (jobId === undefined) {
    const { healthy, jobs, checkedAt } = report;
    // The report is shared for HEALTH_CACHE_SECONDS, and so are its bytes.
    return sharedJson(c, report, { healthy, jobs, checkedAt }, healthy ? 200 : 503);
  }
  const job = report.jobs.find((entry) => entry.id === jobId);
  if (!job) return c.json({ error: `There is no job "${jobId}".` }, 404);
  return c.json({ ...job, checkedAt: report.checkedAt }, job.healthy ? 200 : 503);
}

/** GET /health: liveness. */
export function live(c: Context<AppEnv>) {
  noStore(c);
  return c.json({ status: "ok" });
}

/** GET /health/ready: readiness. */
export async function ready(c: Context<AppEnv>) {
  noStore(c);
  const answer = await c.var.deps.health!.ready();
  if (answer === "ready") return c.json({ ready: true });
  return c.json({ ready: false, error: answer === UNAVAILABLE ? "database unavailable" : answer }, 503);
}
