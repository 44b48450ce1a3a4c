/**
 * GET /badge/:jobId.svg: a job's status as a shields-style badge, for a
 * README or a status page. Public, so off unless BADGES=on; it shows only
 * the job's name and state.
 */
import type { Context } from "hono";
import { renderBadge } from "../lib/health/badge.ts";
import { UNAVAILABLE } from "../lib/health/monitor.ts";
import type { AppEnv } from "../lib/http/context.ts";
import { HttpError } from "../lib/http/errors.ts";

export async function GET(c: Context<AppEnv>) {
  const { config, health } = c.var.deps;
  const file = c.req.param("file") ?? "";
  if (!config.badges) throw new HttpError(404, "Badges are off; set BADGES=on to serve them.");
  if (!file.endsWith(".svg")) throw new HttpError(404, "Badges are served as /badge/<job id>.svg.");
  const jobId = file.slice(0, -".svg".length);
  const report = await health!.report();
  if (report === UNAVAILABLE) {
    // Not a badge: one drawn from the URL alone would show whatever text a link put there.
    c.header("Cache-Control", "no-store");
    return c.json({ error: "database unavailable" }, 503);
  }
  const job = report.jobs.find((entry) => entry.id === jobId);
  if (!job) throw new HttpError(404, `There is no job "${jobId.slice(0, 100)}".`);
  const label = (report.names.get(jobId) ?? jobId).toLowerCase();
  c.header("Cache-Control", "max-age=60");
  return c.body(renderBadge(label, job.state), 200, {
    "Content-Type": "image/svg+xml; charset=utf-8",
  });
}
