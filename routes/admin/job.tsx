import type { Context } from "hono";
import { DailyStrip } from "../../components/DailyStrip.tsx";
import { DurationChart } from "../../components/DurationChart.tsx";
import { History } from "../../components/History.tsx";
import { JobAlertsPanel, type SnoozeFormError } from "../../components/JobAlertsPanel.tsx";
import { runNowBlocker } from "../../components/JobCard.tsx";
import { Layout } from "../../components/Layout.tsx";
import { NextRuns } from "../../components/NextRuns.tsx";
import { ResultChart } from "../../components/ResultChart.tsx";
import { TokenPanel } from "../../components/TokenPanel.tsx";
import JobToggle from "../../islands/JobToggle.tsx";
import RunNowButton from "../../islands/RunNowButton.tsx";
import type { RecentRun } from "../../lib/charts.ts";
import { formatExactUtc } from "../../lib/format.ts";
import {
  type HistoryIssue,
  type HistoryPage,
  type HistoryQuery,
  parseHistoryQuery,
} from "../../lib/history.ts";
import type { AppEnv } from "../../lib/http/context.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { renderPage } from "../../lib/http/page.ts";
import { type NextRun, nextRuns } from "../../lib/jobs/next_runs.ts";
import { cachedSchedule } from "../../lib/jobs/schedule_cache.ts";
import { type JobToken, listJobTokens } from "../../lib/jobs/tokens.ts";
import {
  type AlertListItem,
  getJobAlertStatus,
  type JobAlertStatus,
  listAlertsForJob,
} from "../../lib/queries/alert_views.ts";
import {
  type DailyOutcome,
  type JobSummary,
  listDailyOutcomes,
  listJobSummaries,
  listRecentRuns,
} from "../../lib/queries/dashboard.ts";
import { listExecutions } from "../../lib/queries/history.ts";
import type { JobDefinition } from "../../lib/queries/jobs.ts";
import { getJobDefinition } from "../../lib/queries/jobs.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";

/** The job named by the `:jobId` parameter, or a 404. */
export async function requireJob(c: Context<AppEnv>): Promise<JobDefinition> {
  const jobId = c.req.param("jobId")!;
  const definition = await getJobDefinition(c.var.deps.sql, jobId);
  if (!definition) throw new HttpError(404, `There is no job "${jobId.slice(0, 100)}".`);
  return definition;
}

/** GET /admin/jobs/:jobId: the definition, charts, next runs, tokens and the job's history. */
export async function GET(c: Context<AppEnv>) {
  return await renderJobPage(c, await requireJob(c), null);
}

/**
 * Renders a job's page; with `newToken`, a token just created, shown this
 * once; with `snoozeError`, a refused snooze form's message by its field.
 */
export async function renderJobPage(
  c: Context<AppEnv>,
  definition: JobDefinition,
  newToken: { token: string; record: JobToken } | null,
  status: 200 | 201 | 400 = 200,
  snoozeError: SnoozeFormError | null = null,
) {
  const { deps } = c.var;
  const now = deps.now();
  const parsed = parseHistoryQuery({ ...c.req.query(), jobId: definition.id });
  const [runs, days, page, tokens, summaries, alertStatus, alerts] = await Promise.all([
    listRecentRuns(deps.sql, definition.id, 200),
    listDailyOutcomes(deps.sql, definition.id, now, 30),
    listExecutions(deps.sql, parsed.query),
    definition.external ? listJobTokens(deps.sql, definition.id) : Promise.resolve([]),
    listJobSummaries(deps.sql, now, { jobId: definition.id }),
    getJobAlertStatus(deps.sql, definition.id),
    listAlertsForJob(deps.sql, definition.id, 10),
  ]);
  if (!alertStatus) throw new HttpError(404, `There is no job "${definition.id.slice(0, 100)}".`);
  const summary = summaries[0];
  let upcoming: NextRun[] = [];
  let scheduleText: string | null = null;
  try {
    const schedule = cachedSchedule(definition.schedule, definition.timezone);
    scheduleText = schedule.describe();
    if (definition.enabled && !definition.retiredAt) upcoming = nextRuns(schedule, now, 5);
  } catch {
    // A stored schedule this version cannot read is shown raw, without next runs.
  }
  const issues = parsed.ok ? [] : parsed.issues;
  return renderPage(
    c,
    <JobPage
      user={c.var.user!}
      summary={summary}
      scheduleText={scheduleText}
      upcoming={upcoming}
      runs={runs}
      days={days}
      tokens={tokens}
      newToken={newToken ? { token: newToken.token, label: newToken.record.label } : null}
      page={page}
      query={parsed.query}
      issues={issues}
      now={now}
      runnableHere={deps.jobs.registry.has(definition.id)}
      appUrl={deps.config.appUrl}
      alertStatus={alertStatus}
      alerts={alerts}
      snoozeError={snoozeError}
    />,
    { title: definition.displayName, status: issues.length > 0 ? 400 : status === 201 ? 200 : status },
  );
}

export interface JobPageProps {
  user: SessionUser;
  summary: JobSummary;
  scheduleText: string | null;
  upcoming: NextRun[];
  runs: RecentRun[];
  days: DailyOutcome[];
  tokens: JobToken[];
  newToken: { token: string; label: string } | null;
  page: HistoryPage;
  query: HistoryQuery;
  issues: HistoryIssue[];
  now: Date;
  runnableHere: boolean;
  appUrl: string;
  alertStatus: JobAlertStatus;
  alerts: AlertListItem[];
  snoozeError: SnoozeFormError | null;
}

function Definition({ label, children }: { label: string; children: preact.ComponentChildren }) {
  return (
    <div class="py-2 sm:grid sm:grid-cols-3 sm:gap-4">
      <dt class="text-sm text-gray-500 dark:text-gray-400">{label}</dt>
      <dd class="text-sm sm:col-span-2">{children}</dd>
    </div>
  );
}

function Panel({ title, id, children }: { title: string; id?: string; children: preact.ComponentChildren }) {
  return (
    <section
      id={id}
      aria-label={title}
      class="rounded-xl border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900"
    >
      <h2 class="mb-3 font-semibold">{title}</h2>
      {children}
    </section>
  );
}

export function JobPage(props: JobPageProps) {
  const { user, summary, scheduleText, upcoming, runs, days, tokens, newToken, now } = props;
  const { definition } = summary;
  const isAdmin = user.role === "admin";
  const state = definition.retiredAt ? "Retired" : definition.enabled ? "Enabled" : "Disabled";
  return (
    <Layout user={user} section="jobs">
      <nav aria-label="Breadcrumb" class="mb-2 text-sm">
        <a href="/admin/jobs" class="text-blue-700 hover:underline dark:text-blue-300">← All jobs</a>
      </nav>
      <div class="mb-6 flex flex-wrap items-start justify-between gap-3">
        <div class="min-w-0">
          <h1 class="text-2xl font-bold break-words">{definition.displayName}</h1>
          {definition.description && (
            <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">{definition.description}</p>
          )}
        </div>
        {!definition.retiredAt && (
          <div class="flex flex-wrap items-center gap-2">
            <RunNowButton
              jobId={definition.id}
              jobName={definition.displayName}
              disabledReason={runNowBlocker(summary, isAdmin, props.runnableHere)}
            />
            {isAdmin && (
              <JobToggle
                jobId={definition.id}
                jobName={definition.displayName}
                enabled={definition.enabled}
              />
            )}
          </div>
        )}
      </div>

      <div class="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <Panel title="Definition">
          <dl class="divide-y divide-gray-100 dark:divide-gray-800">
            <Definition label="Id">
              <code class="font-mono">{definition.id}</code>
            </Definition>
            <Definition label="Schedule">
              {scheduleText ?? "This version cannot read the stored schedule."}
              <br />
              <code class="break-all font-mono text-xs text-gray-500">{definition.schedule}</code>
            </Definition>
            <Definition label="Time zone">{definition.timezone}</Definition>
            <Definition label="Timeout">{definition.timeoutSeconds} s</Definition>
            <Definition label="Concurrency">
              {definition.concurrency === "skip"
                ? "skip: a run due while the previous one is running is recorded as skipped"
                : "allow: runs may overlap"}
            </Definition>
            <Definition label="Critical">
              {definition.critical ? "Yes: the health check fails when this job does" : "No"}
            </Definition>
            <Definition label="Max age">
              {definition.maxAgeHours !== null
                ? `${definition.maxAgeHours} h`
                : "Derived from the schedule (longest gap plus grace)"}
            </Definition>
            <Definition label="State">{state}</Definition>
            <Definition label="Runs">
              {definition.external ? "Elsewhere; reports over the runs API" : "In Jobwatch"}
            </Definition>
            <Definition label="Declared since">
              <time datetime={definition.createdAt.toISOString()}>
                {formatExactUtc(definition.createdAt)}
              </time>
            </Definition>
          </dl>
        </Panel>
        <Panel title="Next runs">
          {upcoming.length > 0
            ? <NextRuns runs={upcoming} timezone={definition.timezone} />
            : (
              <p class="text-sm text-gray-500">
                {definition.retiredAt || !definition.enabled
                  ? `${state} jobs have no upcoming runs.`
                  : "No upcoming runs."}
              </p>
            )}
        </Panel>
      </div>

      <div class="mt-4 grid grid-cols-1 gap-4">
        <JobAlertsPanel
          jobId={definition.id}
          status={props.alertStatus}
          alerts={props.alerts}
          isAdmin={isAdmin}
          now={now}
          snoozeError={props.snoozeError}
        />
        <Panel title={`Duration of the last ${runs.length === 200 ? 200 : runs.length} runs`}>
          <DurationChart runs={runs} />
        </Panel>
        <Panel title="Last 30 days">
          <DailyStrip days={days} />
        </Panel>
        <Panel title="Result fields over the last runs">
          <ResultChart runs={runs} />
        </Panel>
        {definition.external && (
          <TokenPanel
            jobId={definition.id}
            tokens={tokens}
            newToken={newToken}
            isAdmin={isAdmin}
            appUrl={props.appUrl}
            now={now}
          />
        )}
      </div>

      <History
        page={props.page}
        query={props.query}
        issues={props.issues}
        fixedJobId={definition.id}
        basePath={`/admin/jobs/${encodeURIComponent(definition.id)}`}
        isAdmin={isAdmin}
        now={now}
      />
    </Layout>
  );
}
