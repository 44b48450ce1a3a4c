/**
 * GET /metrics: Prometheus's text format, computed from the database (so
 * every instance reports the same totals) and cached like the health check.
 * Behind METRICS_TOKEN when set (Prometheus: `authorization: { credentials: … }`).
 */
import type { Context } from "hono";
import { UNAVAILABLE } from "../lib/health/monitor.ts";
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "../lib/health/prometheus.ts";
import type { AppEnv } from "../lib/http/context.ts";
import { carriesToken } from "./health.ts";

export async function GET(c: Context<AppEnv>) {
  c.header("Cache-Control", "no-store");
  const { config, health } = c.var.deps;
  if (config.metricsToken !== null && !carriesToken(c, config.metricsToken)) {
    return c.json({ error: "These metrics are private: send Authorization: Bearer … (or ?token=…)." }, 401);
  }
  const snapshot = await health!.metrics();
  if (snapshot === UNAVAILABLE) return c.json({ error: "database unavailable" }, 503);
  return c.body(renderMetrics(snapshot), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
}
