import type { Context } from "hono";
import { z } from "zod";
import { AlertList } from "../../components/AlertList.tsx";
import { FilterSelect } from "../../components/History.tsx";
import { Layout } from "../../components/Layout.tsx";
import { cursorParam, DEFAULT_LIMIT, type HistoryIssue, MAX_LIMIT } from "../../lib/history.ts";
import type { AppEnv } from "../../lib/http/context.ts";
import { renderPage } from "../../lib/http/page.ts";
import {
  ALERT_STATE_FILTERS,
  type AlertPage,
  type AlertStateFilter,
  countFailedDeliveries,
  listAlerts,
} from "../../lib/queries/alert_views.ts";
import { listJobDefinitions } from "../../lib/queries/jobs.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";

const STATE_LABELS: Record<AlertStateFilter, string> = {
  failed: "Failed",
  pending: "Pending or retrying",
  not_sent: "Not sent",
  suppressed: "Snoozed",
  sent: "Sent",
};

const AlertsQuery = z.object({
  jobId: z.string().max(200, "is too long").optional(),
  state: z.enum(ALERT_STATE_FILTERS, { error: `must be one of all, ${ALERT_STATE_FILTERS.join(", ")}` })
    .optional(),
  limit: z.coerce.number({ error: "must be a number" }).int("must be a whole number")
    .min(1, "must be at least 1").max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`).default(DEFAULT_LIMIT),
  after: cursorParam("serial").optional(),
  before: cursorParam("serial").optional(),
}).refine((q) => !(q.after && q.before), { path: ["before"], message: "cannot be combined with after" });

type AlertsQuery = z.output<typeof AlertsQuery>;

/** Validates the query string; on failure, the query without the refused parameters and why. */
function parseAlertsQuery(params: Record<string, string>): { query: AlertsQuery; issues: HistoryIssue[] } {
  const present = Object.fromEntries(
    Object.entries(params).filter(([key, value]) => value !== "" && !(key === "state" && value === "all")),
  );
  const parsed = AlertsQuery.safeParse(present);
  if (parsed.success) return { query: parsed.data, issues: [] };
  const issues = parsed.error.issues.map((issue) => ({
    field: String(issue.path[0] ?? "query"),
    message: issue.message,
  }));
  const bad = new Set(issues.map((issue) => issue.field));
  const fallback = AlertsQuery.safeParse(
    Object.fromEntries(Object.entries(present).filter(([k]) => !bad.has(k))),
  );
  return { query: fallback.success ? fallback.data : { limit: DEFAULT_LIMIT }, issues };
}

/** GET /admin/alerts: recent alerts and their deliveries, newest first, filtered and paged by cursor. */
export async function GET(c: Context<AppEnv>) {
  const { deps } = c.var;
  const now = deps.now();
  const { query, issues } = parseAlertsQuery(c.req.query());
  const jobs = await listJobDefinitions(deps.sql);
  if (query.jobId !== undefined && !jobs.some((job) => job.id === query.jobId)) {
    issues.push({ field: "jobId", message: "is not a job Jobwatch knows" });
    query.jobId = undefined;
  }
  const [page, failedDeliveries] = await Promise.all([
    listAlerts(deps.sql, query),
    countFailedDeliveries(deps.sql, now),
  ]);
  return renderPage(
    c,
    <AlertsPage
      user={c.var.user!}
      now={now}
      query={query}
      issues={issues}
      jobs={jobs.map((job) => ({ id: job.id, displayName: job.displayName }))}
      page={page}
      failedDeliveries={failedDeliveries}
    />,
    { title: "Alerts", status: issues.length > 0 ? 400 : 200 },
  );
}

/** The query string of the alerts page, for links that keep the filters. */
function alertsSearch(
  query: { jobId?: string; state?: string; limit?: number; after?: string; before?: string },
) {
  const params = new URLSearchParams();
  if (query.jobId) params.set("jobId", query.jobId);
  if (query.state) params.set("state", query.state);
  if (query.limit && query.limit !== DEFAULT_LIMIT) params.set("limit", String(query.limit));
  if (query.after) params.set("after", query.after);
  if (query.before) params.set("before", query.before);
  const text = params.toString();
  return text ? `?${text}` : "";
}

const LINK = "text-blue-700 hover:underline dark:text-blue-300";
const PAGE_LINK =
  "rounded-lg border border-gray-200 px-3 py-1.5 text-sm hover:bg-gray-100 dark:border-gray-700 dark:hover:bg-gray-800";

function NoAlerts({ filtered }: { filtered: boolean }) {
  if (filtered) return <p class="mt-6 text-sm">No alerts match these filters.</p>;
  return (
    <div class="mt-6 space-y-2 rounded-xl border border-gray-200 bg-white p-4 text-sm dark:border-gray-800 dark:bg-gray-900">
      <p class="font-medium">No alerts have been raised yet.</p>
      <p>
        Jobwatch raises an alert when a job fails (the first failure, then every third in a row by default),
        when it recovers, when a run takes longer or shorter than its job expects, and when a job is overdue.
        Each job's page says what its policy is.
      </p>
      <p>
        Alerts are e-mailed through Resend when <code class="font-mono">RESEND_API_KEY</code>,{" "}
        <code class="font-mono">ALERT_FROM</code> and <code class="font-mono">ALERT_TO</code>{" "}
        (comma-separated addresses) are set, and posted as JSON to{" "}
        <code class="font-mono">ALERT_WEBHOOK_URL</code>{" "}
        when it is set. Without them, alerts are still recorded and listed here, marked “Not sent”.
      </p>
    </div>
  );
}

export function AlertsPage(
  { user, now, query, issues, jobs, page, failedDeliveries }: {
    user: SessionUser;
    now: Date;
    query: AlertsQuery;
    issues: HistoryIssue[];
    jobs: { id: string; displayName: string }[];
    page: AlertPage;
    failedDeliveries: number;
  },
) {
  const filters = { jobId: query.jobId, state: query.state, limit: query.limit };
  const filtered = !!query.jobId || !!query.state;
  const cursorIssue = issues.find((issue) => issue.field === "after" || issue.field === "before");
  const otherIssues = issues.filter((issue) => !["after", "before", "jobId", "state"].includes(issue.field));
  return (
    <Layout user={user} section="alerts">
      <h1 class="text-2xl font-bold">Alerts</h1>
      <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">
        What Jobwatch told you about, and whether each e-mail and webhook got through.
      </p>
      {failedDeliveries > 0 && query.state !== "failed" && (
        <p
          class="mt-4 rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950/40 dark:text-red-300"
          data-testid="failed-deliveries"
        >
          {failedDeliveries} {failedDeliveries === 1 ? "delivery" : "deliveries"} failed in the last 7 days.
          {" "}
          <a
            class="font-medium underline"
            href={`/admin/alerts${alertsSearch({ ...filters, state: "failed" })}`}
          >
            Show alerts whose delivery failed
          </a>
        </p>
      )}
      <form
        method="get"
        action="/admin/alerts"
        class="mt-4 grid grid-cols-1 gap-3 rounded-xl border border-gray-200 bg-white p-3 sm:grid-cols-3 dark:border-gray-800 dark:bg-gray-900"
        aria-label="Filter alerts"
      >
        <FilterSelect
          name="jobId"
          label="Job"
          value={query.jobId}
          options={jobs.map((job) => [job.id, job.displayName])}
          issues={issues}
        />
        <FilterSelect
          name="state"
          label="Delivery"
          value={query.state}
          options={ALERT_STATE_FILTERS.map((state) => [state, STATE_LABELS[state]])}
          issues={issues}
        />
        <div class="flex items-end">
          {query.limit !== DEFAULT_LIMIT && <input type="hidden" name="limit" value={String(query.limit)} />}
          <button
            type="submit"
            class="rounded-lg bg-gray-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-gray-700 dark:bg-gray-100 dark:text-gray-900 dark:hover:bg-white"
          >
            Filter
          </button>
        </div>
      </form>
      {filtered && (
        <p class="mt-2 text-sm">
          <a href="/admin/alerts" class={LINK}>Clear filters</a>
        </p>
      )}
      {cursorIssue && (
        <p class="mt-2 text-sm text-red-700 dark:text-red-300" data-testid="error-cursor">
          That page link {cursorIssue.message}. Showing the newest alerts.
        </p>
      )}
      {otherIssues.map((issue) => (
        <p
          key={issue.field}
          class="mt-2 text-sm text-red-700 dark:text-red-300"
          data-testid={`error-${issue.field}`}
        >
          {issue.field} {issue.message}.
        </p>
      ))}
      {page.alerts.length === 0 ? <NoAlerts filtered={filtered || !!page.prevCursor} /> : (
        <div class="mt-4">
          <AlertList alerts={page.alerts} now={now} />
        </div>
      )}
      {(page.prevCursor || page.nextCursor) && (
        <nav aria-label="Alert pages" class="mt-4 flex justify-between">
          {page.prevCursor
            ? (
              <a
                class={PAGE_LINK}
                rel="prev"
                href={`/admin/alerts${alertsSearch({ ...filters, before: page.prevCursor })}`}
              >
                ← Newer
              </a>
            )
            : <span />}
          {page.nextCursor && (
            <a
              class={PAGE_LINK}
              rel="next"
              href={`/admin/alerts${alertsSearch({ ...filters, after: page.nextCursor })}`}
            >
              Older →
            </a>
          )}
        </nav>
      )}
    </Layout>
  );
}
