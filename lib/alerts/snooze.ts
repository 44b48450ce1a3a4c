/**
 * Snoozing a job's alerts: while `snoozed_until` lies ahead, the alerts it
 * raises are recorded but not delivered. Admins only, audited in the same
 * transaction as the change.
 */
import { z } from "zod";
import { requireAdmin } from "../auth/middleware.ts";
import type { Sql } from "../db/mod.ts";
import { formatExactUtc } from "../format.ts";
import { HttpError } from "../http/errors.ts";
import { recordAuditEvent } from "../queries/audit.ts";

/** The longest snooze: long enough for a holiday, short enough not to be forgotten. */
export const MAX_SNOOZE_MS = 30 * 24 * 60 * 60 * 1000;

/** The snooze buttons' durations (the form's `for` field). */
export const SNOOZE_DURATIONS = {
  "1h": { label: "1 h", ms: 60 * 60 * 1000 },
  "4h": { label: "4 h", ms: 4 * 60 * 60 * 1000 },
  "24h": { label: "24 h", ms: 24 * 60 * 60 * 1000 },
  "7d": { label: "7 d", ms: 7 * 24 * 60 * 60 * 1000 },
} as const;
export type SnoozeDuration = keyof typeof SNOOZE_DURATIONS;

/** Who snoozes: a signed-in user. */
export interface SnoozeActor {
  id: string | null;
  email: string;
  role: "admin" | "viewer";
  ip?: string | null;
}

/** Why `until` cannot end a snooze that starts at `now`, or null when it can. */
export function checkSnoozeUntil(until: Date, now: Date): string | null {
  if (!Number.isFinite(until.getTime())) return "Choose a date and time to snooze until.";
  if (until.getTime() <= now.getTime()) {
    return `Choose a time in the future: ${formatExactUtc(until)} has passed.`;
  }
  if (until.getTime() - now.getTime() > MAX_SNOOZE_MS) {
    return `A snooze lasts at most 30 days, until ${
      formatExactUtc(new Date(now.getTime() + MAX_SNOOZE_MS))
    }.`;
  }
  return null;
}

/** A datetime-local value (no zone, read as UTC) or an ISO instant with a zone. */
const Instant = z.iso.datetime({ offset: true, local: true })
  .transform((text) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`));

export type SnoozeFormResult =
  | { ok: true; until: Date }
  | { ok: false; field: "for" | "until"; message: string };

/**
 * Reads the snooze form: a `for` button (1h, 4h, 24h, 7d) wins; otherwise
 * `until`, a datetime-local value read as UTC. Pure: `now` is passed in.
 */
export function parseSnoozeForm(fields: Record<string, unknown>, now: Date): SnoozeFormResult {
  const duration = typeof fields.for === "string" ? fields.for : "";
  if (duration !== "") {
    if (!Object.hasOwn(SNOOZE_DURATIONS, duration)) {
      return {
        ok: false,
        field: "for",
        message: `Snooze for one of ${Object.keys(SNOOZE_DURATIONS).join(", ")}.`,
      };
    }
    return { ok: true, until: new Date(now.getTime() + SNOOZE_DURATIONS[duration as SnoozeDuration].ms) };
  }
  const text = typeof fields.until === "string" ? fields.until.trim() : "";
  if (text === "") return { ok: false, field: "until", message: "Choose a date and time to snooze until." };
  const parsed = Instant.safeParse(text);
  if (!parsed.success) {
    return { ok: false, field: "until", message: "Enter the date and time as 2027-03-08T14:00 (UTC)." };
  }
  const problem = checkSnoozeUntil(parsed.data, now);
  return problem ? { ok: false, field: "until", message: problem } : { ok: true, until: parsed.data };
}

function unknownJob(jobId: string): HttpError {
  return new HttpError(404, `There is no job "${jobId.slice(0, 100)}".`);
}

/**
 * Snoozes a job's alerts until `until` (in the future, at most 30 days
 * ahead, else a 400), with its `job.alerts_snoozed` audit event. Throws
 * 403 for a viewer and 404 for an unknown job.
 */
export async function snoozeJobAlerts(
  sql: Sql,
  actor: SnoozeActor,
  jobId: string,
  until: Date,
  now: Date,
): Promise<{ snoozedUntil: Date; snoozedBy: string }> {
  requireAdmin(actor);
  const problem = checkSnoozeUntil(until, now);
  if (problem) throw new HttpError(400, problem);
  return await sql.begin(async (tx) => {
    const [row] = await tx<{ snoozedUntil: Date; snoozedBy: string }[]>`
      UPDATE job_alert_state
      SET snoozed_until = ${until}, snoozed_by = ${actor.email}, updated_at = ${now}
      WHERE job_id = ${jobId}
      RETURNING snoozed_until, snoozed_by
    `;
    if (!row) throw unknownJob(jobId);
    await recordAuditEvent(tx, {
      action: "job.alerts_snoozed",
      occurredAt: now,
      actorId: actor.id,
      actorEmail: actor.email,
      targetType: "job",
      targetId: jobId,
      ip: actor.ip ?? null,
      metadata: { until: until.toISOString() },
    });
    return row;
  });
}

/**
 * Ends a job's snooze at once. Audited (`job.alerts_unsnoozed`, with the
 * snooze's end) only when a snooze was running; 403 for a viewer, 404 for
 * an unknown job.
 */
export async function unsnoozeJobAlerts(
  sql: Sql,
  actor: SnoozeActor,
  jobId: string,
  now: Date,
): Promise<void> {
  requireAdmin(actor);
  await sql.begin(async (tx) => {
    // The self-join reads the row as it was before this UPDATE, for the audit event.
    const [row] = await tx<{ previous: Date | null }[]>`
      UPDATE job_alert_state s
      SET snoozed_until = NULL, snoozed_by = NULL, updated_at = ${now}
      FROM job_alert_state old_state
      WHERE s.job_id = ${jobId} AND old_state.job_id = s.job_id
      RETURNING old_state.snoozed_until AS previous
    `;
    if (!row) throw unknownJob(jobId);
    if (row.previous && row.previous > now) {
      await recordAuditEvent(tx, {
        action: "job.alerts_unsnoozed",
        occurredAt: now,
        actorId: actor.id,
        actorEmail: actor.email,
        targetType: "job",
        targetId: jobId,
        ip: actor.ip ?? null,
        metadata: { until: row.previous.toISOString() },
      });
    }
  });
}
