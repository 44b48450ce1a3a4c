/**
 * Executions as JSON, for the history island: one in full (an expanded
 * row), or several rows by id (the live list's batched refresh).
 */
import type { Context } from "hono";
import type { AppEnv } from "../../../lib/http/context.ts";
import { HttpError } from "../../../lib/http/errors.ts";
import { isUuid } from "../../../lib/ids.ts";
import { getExecutionDetail, listExecutionsByIds } from "../../../lib/queries/history.ts";

/** The most ids one request may ask for. */
export const MAX_IDS = 100;

/** GET /api/admin/executions/:id → 200 ExecutionDetail, or 404 { error } */
export async function show(c: Context<AppEnv>) {
  const id = c.req.param("id")!;
  const execution = isUuid(id) ? await getExecutionDetail(c.var.deps.sql, id.toLowerCase()) : null;
  if (!execution) throw new HttpError(404, `There is no execution "${id.slice(0, 100)}".`);
  return c.json(execution);
}

/** GET /api/admin/executions?ids=a,b,c → 200 { executions: ExecutionRow[] } (unknown ids are left out) */
export async function byIds(c: Context<AppEnv>) {
  const ids = parseIds(c.req.query("ids"));
  return c.json({ executions: await listExecutionsByIds(c.var.deps.sql, ids) });
}

/** The `ids` parameter as distinct lower-case UUIDs, or the 400 that says what is wrong with it. */
function parseIds(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") {
    throw new HttpError(400, `Pass ids=<id>,<id>,… (execution ids, at most ${MAX_IDS}).`);
  }
  const parts = raw.split(",").map((part) => part.trim());
  if (parts.length > MAX_IDS) {
    throw new HttpError(400, `Ask for at most ${MAX_IDS} ids at a time; this asked for ${parts.length}.`);
  }
  const bad = parts.find((part) => !isUuid(part));
  if (bad !== undefined) {
    throw new HttpError(400, `ids must be execution ids (UUIDs); "${bad.slice(0, 60)}" is not one.`);
  }
  return [...new Set(parts.map((part) => part.toLowerCase()))];
}
