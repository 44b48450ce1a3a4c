import type { Context } from "hono";
import { z } from "zod";
import { Layout } from "../../components/Layout.tsx";
import { formatExactUtc, formatRelative } from "../../lib/format.ts";
import { cursorParam, DEFAULT_LIMIT, MAX_LIMIT } from "../../lib/history.ts";
import type { AppEnv } from "../../lib/http/context.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { renderPage } from "../../lib/http/page.ts";
import { type AuditEvent, listAuditEvents } from "../../lib/queries/audit.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";

const AuditQuery = z.object({
  limit: z.coerce.number({ error: "limit must be a number" }).int("limit must be a whole number")
    .min(1, "limit must be at least 1").max(MAX_LIMIT, `limit must be at most ${MAX_LIMIT}`).default(
      DEFAULT_LIMIT,
    ),
  after: cursorParam("serial").optional(),
  before: cursorParam("serial").optional(),
}).refine((q) => !(q.after && q.before), { message: "after and before cannot be combined" });

/** GET /admin/audit: who did what and when, newest first, paged by cursor. */
export async function GET(c: Context<AppEnv>) {
  const present = Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ""));
  const parsed = AuditQuery.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path[0] === "after" || issue.path[0] === "before" ? `${String(issue.path[0])} ` : "";
    throw new HttpError(400, `${field}${issue.message}.`);
  }
  const { limit, after, before } = parsed.data;
  const result = await listAuditEvents(c.var.deps.sql, { limit, after, before });
  return renderPage(
    c,
    <AuditPage user={c.var.user!} now={c.var.deps.now()} limit={limit} {...result} />,
    { title: "Audit log" },
  );
}

const ACTIONS: Record<string, string> = {
  "auth.signed_in": "Signed in",
  "auth.signed_out": "Signed out",
  "auth.sign_in_failed": "Failed sign-in",
  "auth.sign_in_limited": "Sign-in rate limited",
  "job.triggered": "Ran a job now",
  "job.retried": "Retried a run",
  "job.enabled": "Enabled a job",
  "job.disabled": "Disabled a job",
  "job.alerts_snoozed": "Snoozed a job's alerts",
  "job.alerts_unsnoozed": "Unsnoozed a job's alerts",
  "token.created": "Created a run token",
  "token.revoked": "Revoked a run token",
  "user.created": "Created a user",
  "user.password_changed": "Changed a password",
  "user.removed": "Removed a user",
};

/** The event's target as a link where one exists. */
function Target({ event }: { event: AuditEvent }) {
  const jobId = event.targetType === "job"
    ? event.targetId
    : typeof event.metadata.jobId === "string"
    ? event.metadata.jobId
    : null;
  const executionId = typeof event.metadata.executionId === "string" ? event.metadata.executionId : null;
  return (
    <span class="flex flex-wrap gap-x-2">
      {jobId && (
        <a
          class="text-blue-700 hover:underline dark:text-blue-300"
          href={`/admin/jobs/${encodeURIComponent(jobId)}`}
        >
          {jobId}
        </a>
      )}
      {executionId && (
        <a
          class="font-mono text-xs text-blue-700 hover:underline dark:text-blue-300"
          href={`/admin/executions/${encodeURIComponent(executionId)}`}
        >
          run {executionId.slice(0, 8)}
        </a>
      )}
      {!jobId && !executionId && event.targetId && (
        <span class="text-gray-500">{event.targetType} {event.targetId}</span>
      )}
    </span>
  );
}

export function AuditPage(
  { user, now, limit, events, nextCursor, prevCursor }: {
    user: SessionUser;
    now: Date;
    limit: number;
    events: AuditEvent[];
    nextCursor: string | null;
    prevCursor: string | null;
  },
) {
  const limitParam = limit === DEFAULT_LIMIT ? "" : `&limit=${limit}`;
  const link =
    "rounded-lg border border-gray-200 px-3 py-1.5 text-sm hover:bg-gray-100 dark:border-gray-700 dark:hover:bg-gray-800";
  return (
    <Layout user={user} section="audit">
      <h1 class="text-2xl font-bold">Audit log</h1>
      <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">
        Sign-ins, runs started by hand, retries, enabled and disabled jobs, and run tokens.
      </p>
      {events.length === 0
        ? <p class="mt-6 text-sm">Nothing has been recorded yet.</p>
        : (
          <ol class="mt-6 divide-y divide-gray-100 rounded-xl border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
            {events.map((event) => (
              <li class="grid gap-1 px-4 py-3 text-sm sm:grid-cols-4 sm:gap-4" data-testid="audit-event">
                <time
                  datetime={event.occurredAt}
                  title={formatExactUtc(event.occurredAt)}
                  class="text-gray-500"
                >
                  {formatRelative(event.occurredAt, now)}
                </time>
                <span class="font-medium">{ACTIONS[event.action] ?? event.action}</span>
                <span class="break-all">
                  {event.actorName ?? event.actorEmail ?? "—"}
                  {event.actorName && event.actorEmail && (
                    <span class="text-gray-500">({event.actorEmail})</span>
                  )}
                  {event.ip && <span class="block text-xs text-gray-500">from {event.ip}</span>}
                </span>
                <Target event={event} />
              </li>
            ))}
          </ol>
        )}
      {(prevCursor || nextCursor) && (
        <nav aria-label="Audit pages" class="mt-4 flex justify-between">
          {prevCursor
            ? <a class={link} rel="prev" href={`/admin/audit?before=${prevCursor}${limitParam}`}>← Newer</a>
            : <span />}
          {nextCursor && (
            <a class={link} rel="next" href={`/admin/audit?after=${nextCursor}${limitParam}`}>Older →</a>
          )}
        </nav>
      )}
    </Layout>
  );
}
