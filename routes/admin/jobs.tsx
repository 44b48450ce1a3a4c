import type { Context } from "hono";
import { History } from "../../components/History.tsx";
import { isFailing, JobCard } from "../../components/JobCard.tsx";
import { Layout } from "../../components/Layout.tsx";
import type { AppEnv } from "../../lib/http/context.ts";
import { renderPage } from "../../lib/http/page.ts";
import { objectId } from "../../lib/render/page.tsx";
import {
  type HistoryIssue,
  type HistoryPage,
  type HistoryQuery,
  parseHistoryQuery,
} from "../../lib/history.ts";
import { cachedSchedule } from "../../lib/jobs/schedule_cache.ts";
import type { JobSummary } from "../../lib/queries/dashboard.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";

/** The plain-English schedule and the next run; a stored schedule this version cannot read gives nulls. */
export function readSchedule(
  definition: { schedule: string; timezone: string },
  now: Date,
): { text: string | null; next: Date | null } {
  try {
    const schedule = cachedSchedule(definition.schedule, definition.timezone);
    return { text: schedule.describe(), next: schedule.next(now) };
  } catch {
    return { text: null, next: null };
  }
}

/** GET /admin/jobs: every job's card and the history, from one round of queries. */
export async function GET(c: Context<AppEnv>) {
  const { deps } = c.var;
  const parsed = parseHistoryQuery(c.req.query());
  const now = deps.now();
  const [summaries, page] = await Promise.all([
    deps.dashboard!.list(now),
    deps.dashboard!.history(parsed.query),
  ]);
  const issues = parsed.ok ? [] : parsed.issues;
  const user = c.var.user!;
  const runnable = [...deps.jobs.registry.keys()];
  // The page shows times to the second, so it is rendered for the whole second: every request
  // in that second with the same data and user reuses one render.
  const shownAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const viewer = { id: user.id, name: user.name, role: user.role };
  // The reads come from the dashboard cache, so an unchanged read is the same object.
  const memoKey = JSON.stringify([
    "jobs",
    viewer,
    shownAt,
    objectId(summaries),
    objectId(page),
    parsed.query,
    issues,
    runnable,
  ]);
  return renderPage(
    c,
    <JobsPage
      user={user}
      summaries={summaries}
      page={page}
      query={parsed.query}
      issues={issues}
      now={shownAt}
      runnable={new Set(runnable)}
    />,
    { title: "Jobs", status: issues.length > 0 ? 400 : 200, memoKey },
  );
}

export interface JobsPageProps {
  user: SessionUser;
  summaries: JobSummary[];
  page: HistoryPage;
  query: HistoryQuery;
  issues: HistoryIssue[];
  now: Date;
  /** Jobs whose code this instance has. */
  runnable: Set<string>;
}

function CardGrid(
  { summaries, user, now, runnable }: Pick<JobsPageProps, "summaries" | "user" | "now" | "runnable">,
) {
  return (
    <div class="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3">
      {summaries.map((summary) => {
        const schedule = readSchedule(summary.definition, now);
        return (
          <JobCard
            key={summary.definition.id}
            summary={summary}
            scheduleText={schedule.text}
            nextRunAt={schedule.next}
            now={now}
            isAdmin={user.role === "admin"}
            runnableHere={runnable.has(summary.definition.id)}
          />
        );
      })}
    </div>
  );
}

/** Disabled or retired jobs, apart from the active ones under a heading; nothing when there are none. */
function InactiveSection(
  { id, title, ...grid }: { id: string; title: string } & Parameters<typeof CardGrid>[0],
) {
  if (grid.summaries.length === 0) return null;
  return (
    <section aria-labelledby={`${id}-heading`} class="mt-8">
      <h2 id={`${id}-heading`} class="mb-3 text-sm font-semibold uppercase tracking-wide text-gray-500">
        {title}
      </h2>
      <CardGrid {...grid} />
    </section>
  );
}

export function JobsPage({ user, summaries, page, query, issues, now, runnable }: JobsPageProps) {
  const active = summaries.filter((s) => s.definition.enabled && !s.definition.retiredAt);
  // Failing jobs first: they are what an engineer opens this page to find.
  active.sort((a, b) => Number(isFailing(b)) - Number(isFailing(a)));
  const disabled = summaries.filter((s) => !s.definition.enabled && !s.definition.retiredAt);
  const retired = summaries.filter((s) => s.definition.retiredAt);
  const failing = active.filter(isFailing).length;
  const jobs = summaries.map((s) => ({ id: s.definition.id, displayName: s.definition.displayName }));
  return (
    <Layout user={user} section="jobs">
      <div class="mb-6 flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 class="text-2xl font-bold">Scheduled jobs</h1>
          <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">
            Every run, its result and how long it took.
          </p>
        </div>
        {summaries.length > 0 && (
          <p class="text-sm" data-testid="jobs-overview">
            {active.length} active
            {failing > 0 && (
              <span class="ml-1 font-semibold text-red-700 dark:text-red-300">· {failing} failing</span>
            )}
            {disabled.length > 0 && <span class="ml-1 text-gray-500">· {disabled.length} disabled</span>}
            {retired.length > 0 && <span class="ml-1 text-gray-500">· {retired.length} retired</span>}
          </p>
        )}
      </div>
      {summaries.length === 0
        ? (
          <section class="rounded-xl border border-dashed border-gray-300 bg-white px-6 py-12 text-center dark:border-gray-700 dark:bg-gray-900">
            <h2 class="text-lg font-semibold">No jobs defined yet</h2>
            <p class="mx-auto mt-2 max-w-md text-sm text-gray-500 dark:text-gray-400">
              Jobs declared in code with <code class="font-mono">defineJob</code>{" "}
              appear here once the app starts, with every run they make.
            </p>
          </section>
        )
        : (
          <>
            <section aria-label="Active jobs">
              {active.length > 0
                ? <CardGrid summaries={active} user={user} now={now} runnable={runnable} />
                : <p class="text-sm text-gray-500">Every job is disabled or retired.</p>}
            </section>
            <InactiveSection
              id="disabled"
              title="Disabled"
              summaries={disabled}
              user={user}
              now={now}
              runnable={runnable}
            />
            <InactiveSection
              id="retired"
              title="Retired: no longer defined in code"
              summaries={retired}
              user={user}
              now={now}
              runnable={runnable}
            />
          </>
        )}
      <History
        page={page}
        query={query}
        issues={issues}
        jobs={jobs}
        basePath="/admin/jobs"
        isAdmin={user.role === "admin"}
        now={now}
      />
    </Layout>
  );
}
