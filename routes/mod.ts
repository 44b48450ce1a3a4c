/**
 * The route table, written out: easy to read, safe on Deno Deploy, and
 * walked by the tests so no route escapes the access and input checks.
 */
import type { Handler } from "hono";
import type { AppEnv } from "../lib/http/context.ts";
import * as adminAlerts from "./admin/alerts.tsx";
import * as adminAudit from "./admin/audit.tsx";
import * as adminExecution from "./admin/execution.tsx";
import * as adminJob from "./admin/job.tsx";
import * as adminJobAlerts from "./admin/job_alerts.ts";
import * as adminJobTokens from "./admin/job_tokens.ts";
import * as adminJobs from "./admin/jobs.tsx";
import * as eventsApi from "./api/admin/events.ts";
import * as executionsApi from "./api/admin/executions.ts";
import * as adminJobsApi from "./api/admin/jobs.ts";
import * as runsApi from "./api/runs.ts";
import * as badge from "./badge.ts";
import * as health from "./health.ts";
import * as index from "./index.ts";
import * as metrics from "./metrics.ts";
import * as login from "./login.tsx";
import * as logout from "./logout.ts";

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** `public`: anyone; `user`: a signed-in viewer or admin (writes need an admin). */
  access: "public" | "user";
  handler: Handler<AppEnv>;
}

export const routes: Route[] = [
  { method: "GET", path: "/", access: "public", handler: index.GET },
  // For uptime monitors, orchestrators and Prometheus: no session (tokens when configured).
  { method: "GET", path: "/health", access: "public", handler: health.live },
  { method: "GET", path: "/health/ready", access: "public", handler: health.ready },
  { method: "GET", path: "/health/jobs", access: "public", handler: health.jobs },
  { method: "GET", path: "/api/health/jobs", access: "public", handler: health.jobs },
  { method: "GET", path: "/metrics", access: "public", handler: metrics.GET },
  { method: "GET", path: "/badge/:file", access: "public", handler: badge.GET },
  { method: "GET", path: "/login", access: "public", handler: login.GET },
  { method: "POST", path: "/login", access: "public", handler: login.POST },
  { method: "POST", path: "/logout", access: "public", handler: logout.POST },
  { method: "GET", path: "/admin/jobs", access: "user", handler: adminJobs.GET },
  { method: "GET", path: "/admin/jobs/:jobId", access: "user", handler: adminJob.GET },
  { method: "POST", path: "/admin/jobs/:jobId/tokens", access: "user", handler: adminJobTokens.createToken },
  {
    method: "POST",
    path: "/admin/jobs/:jobId/tokens/:tokenId/revoke",
    access: "user",
    handler: adminJobTokens.revokeToken,
  },
  { method: "POST", path: "/admin/jobs/:jobId/snooze", access: "user", handler: adminJobAlerts.snooze },
  { method: "POST", path: "/admin/jobs/:jobId/unsnooze", access: "user", handler: adminJobAlerts.unsnooze },
  { method: "GET", path: "/admin/executions/:id", access: "user", handler: adminExecution.GET },
  { method: "GET", path: "/admin/alerts", access: "user", handler: adminAlerts.GET },
  { method: "GET", path: "/admin/audit", access: "user", handler: adminAudit.GET },
  { method: "GET", path: "/api/admin/jobs", access: "user", handler: adminJobsApi.list },
  { method: "POST", path: "/api/admin/jobs/:jobId/trigger", access: "user", handler: adminJobsApi.trigger },
  { method: "POST", path: "/api/admin/jobs/:jobId/enabled", access: "user", handler: adminJobsApi.enabled },
  { method: "POST", path: "/api/admin/executions/:id/retry", access: "user", handler: adminJobsApi.retry },
  { method: "GET", path: "/api/admin/executions", access: "user", handler: executionsApi.byIds },
  { method: "GET", path: "/api/admin/executions/:id", access: "user", handler: executionsApi.show },
  { method: "GET", path: "/api/admin/events", access: "user", handler: eventsApi.GET },
  // The runs API for external jobs: "public" to the session guard, because each request carries its
  // job's bearer token (Authorization: Bearer jw_…), checked in lib/jobs/external.ts.
  { method: "POST", path: "/api/runs/:jobId/start", access: "public", handler: runsApi.start },
  { method: "POST", path: "/api/runs/:id/complete", access: "public", handler: runsApi.complete },
  { method: "POST", path: "/api/runs/:id/fail", access: "public", handler: runsApi.fail },
  { method: "POST", path: "/api/runs/:jobId", access: "public", handler: runsApi.report },
];
