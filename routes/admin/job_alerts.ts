/**
 * Snoozing a job's alerts from its page: plain form POSTs (same-origin
 * checked by the app's middleware), admins only, audited. Success
 * redirects back to the job's Alerts section; a refused value re-renders
 * the page with a 400 and the message by its field.
 */
import type { Context } from "hono";
import { parseSnoozeForm, snoozeJobAlerts, unsnoozeJobAlerts } from "../../lib/alerts/snooze.ts";
import { requireAdmin } from "../../lib/auth/middleware.ts";
import type { AppEnv } from "../../lib/http/context.ts";
import { readForm } from "../../lib/http/form.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";
import { renderJobPage, requireJob } from "./job.tsx";

function actorOf(c: Context<AppEnv>, user: SessionUser) {
  return { id: user.id, email: user.email, role: user.role, ip: c.var.clientIp };
}

const alertsSection = (jobId: string) => `/admin/jobs/${encodeURIComponent(jobId)}#alerts`;

/** POST /admin/jobs/:jobId/snooze (`for`: 1h, 4h, 24h or 7d; or `until`: a datetime-local, UTC). */
export async function snooze(c: Context<AppEnv>) {
  const user = c.var.user!;
  requireAdmin(user);
  const definition = await requireJob(c);
  const fields = await readForm(c);
  const now = c.var.deps.now();
  const parsed = parseSnoozeForm(fields, now);
  if (!parsed.ok) {
    const value = typeof fields.until === "string" ? fields.until.slice(0, 40) : undefined;
    return await renderJobPage(c, definition, null, 400, {
      field: parsed.field,
      message: parsed.message,
      value,
    });
  }
  await snoozeJobAlerts(c.var.deps.sql, actorOf(c, user), definition.id, parsed.until, now);
  return c.redirect(alertsSection(definition.id), 303);
}

/** POST /admin/jobs/:jobId/unsnooze: delivers the job's alerts again from now on. */
export async function unsnooze(c: Context<AppEnv>) {
  const user = c.var.user!;
  requireAdmin(user);
  const definition = await requireJob(c);
  await unsnoozeJobAlerts(c.var.deps.sql, actorOf(c, user), definition.id, c.var.deps.now());
  return c.redirect(alertsSection(definition.id), 303);
}
