import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../../lib/http/context.ts";
import { HttpError } from "../../../lib/http/errors.ts";
import { readJson } from "../../../lib/http/json.ts";
import { parseHistoryQuery } from "../../../lib/history.ts";
import { listExecutions } from "../../../lib/queries/history.ts";
import { listJobDefinitions } from "../../../lib/queries/jobs.ts";
import { retryExecution, setEnabled, type TriggerDeps, triggerJob } from "../../../lib/jobs/trigger.ts";

function triggerDeps(c: Context<AppEnv>): TriggerDeps {
  const { deps } = c.var;
  return { ...deps.jobs, sql: deps.sql, now: deps.now };
}

function actor(c: Context<AppEnv>) {
  const user = c.var.user!;
  return { id: user.id, email: user.email, role: user.role, ip: c.var.clientIp };
}

/** POST /api/admin/jobs/:jobId/trigger → 202 { executionId, status: "triggered" } */
export async function trigger(c: Context<AppEnv>) {
  const executionId = await triggerJob(triggerDeps(c), c.req.param("jobId")!, actor(c));
  return c.json({ executionId, status: "triggered" }, 202);
}

/** POST /api/admin/executions/:id/retry → 202 { executionId, retryOf, status: "triggered" } */
export async function retry(c: Context<AppEnv>) {
  const retryOf = c.req.param("id")!;
  const executionId = await retryExecution(triggerDeps(c), retryOf, actor(c));
  return c.json({ executionId, retryOf, status: "triggered" }, 202);
}

const EnabledBody = z.object({ enabled: z.boolean({ error: "enabled must be true or false" }) }).strict();

/** POST /api/admin/jobs/:jobId/enabled { enabled } → 200 { jobId, enabled } */
export async function enabled(c: Context<AppEnv>) {
  const body = await readJson(c, EnabledBody);
  const definition = await setEnabled(triggerDeps(c), c.req.param("jobId")!, body.enabled, actor(c));
  c.var.deps.dashboard?.invalidate();
  return c.json({ jobId: definition.id, enabled: definition.enabled });
}

/**
 * GET /api/admin/jobs?jobId&status&trigger&from&to&limit&after|before → the
 * seed's `{ executions, definitions, pagination }`, paged by cursor: pass
 * `pagination.nextCursor` as `after` for older rows. Page numbers are not
 * offered, because counting pages means counting the whole history.
 */
export async function list(c: Context<AppEnv>) {
  const parsed = parseHistoryQuery(c.req.query());
  if (!parsed.ok) {
    const summary = parsed.issues.map((issue) => `${issue.field} ${issue.message}`).join("; ");
    throw new HttpError(400, `Invalid query: ${summary}.`, { issues: parsed.issues });
  }
  const { sql } = c.var.deps;
  const [page, definitions] = await Promise.all([listExecutions(sql, parsed.query), listJobDefinitions(sql)]);
  return c.json({
    executions: page.executions,
    definitions: definitions.map((
      { id, displayName, description, schedule, timezone, enabled, external, retiredAt },
    ) => ({
      id,
      displayName,
      description,
      schedule,
      timezone,
      enabled,
      external,
      retiredAt,
    })),
    pagination: {
      limit: parsed.query.limit,
      total: page.total.value,
      totalEstimated: page.total.estimated,
      nextCursor: page.nextCursor,
      prevCursor: page.prevCursor,
    },
  });
}
