import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../../lib/http/context.ts";
import { readJson } from "../../../lib/http/json.ts";
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
  return c.json({ jobId: definition.id, enabled: definition.enabled });
}
