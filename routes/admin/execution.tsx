import type { Context } from "hono";
import { AlertList } from "../../components/AlertList.tsx";
import { ExecutionDetail } from "../../components/ExecutionDetail.tsx";
import { Layout } from "../../components/Layout.tsx";
import RetryButton from "../../islands/RetryButton.tsx";
import { formatExactUtc, formatRelative } from "../../lib/format.ts";
import type { ExecutionDetail as Execution } from "../../lib/history.ts";
import type { AppEnv } from "../../lib/http/context.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { renderPage } from "../../lib/http/page.ts";
import { type AlertListItem, listAlertsForExecution } from "../../lib/queries/alert_views.ts";
import { getExecutionDetail } from "../../lib/queries/history.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";

/** GET /admin/executions/:id: one execution in full, and the alerts it raised; the alert e-mails link here. */
export async function GET(c: Context<AppEnv>) {
  const id = c.req.param("id")!;
  const [execution, alerts] = await Promise.all([
    getExecutionDetail(c.var.deps.sql, id),
    listAlertsForExecution(c.var.deps.sql, id),
  ]);
  if (!execution) throw new HttpError(404, `There is no execution "${id.slice(0, 100)}".`);
  return renderPage(
    c,
    <ExecutionPage user={c.var.user!} execution={execution} alerts={alerts} now={c.var.deps.now()} />,
    { title: `${execution.jobName} run` },
  );
}

export function ExecutionPage(
  { user, execution, alerts, now }: {
    user: SessionUser;
    execution: Execution;
    alerts: AlertListItem[];
    now: Date;
  },
) {
  return (
    <Layout user={user} section="jobs">
      <nav aria-label="Breadcrumb" class="mb-2 flex flex-wrap gap-x-2 text-sm">
        <a href="/admin/jobs" class="text-blue-700 hover:underline dark:text-blue-300">Jobs</a>
        <span aria-hidden="true" class="text-gray-400">/</span>
        <a
          href={`/admin/jobs/${encodeURIComponent(execution.jobId)}`}
          class="text-blue-700 hover:underline dark:text-blue-300"
        >
          {execution.jobName}
        </a>
      </nav>
      <h1 class="text-2xl font-bold break-words">{execution.jobName}</h1>
      <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">
        Run started{" "}
        <time datetime={execution.startedAt} title={formatExactUtc(execution.startedAt)}>
          {formatRelative(execution.startedAt, now)}
        </time>
        <span class="break-all font-mono text-xs">· {execution.id}</span>
      </p>
      <div class="mt-6 rounded-xl border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900">
        <ExecutionDetail
          execution={execution}
          canRetry={user.role === "admin"}
          retry={<RetryButton executionId={execution.id} />}
        />
      </div>
      <section aria-labelledby="alerts-heading" class="mt-6" id="alerts">
        <h2 id="alerts-heading" class="mb-2 text-lg font-semibold">Alerts</h2>
        {alerts.length > 0
          ? <AlertList alerts={alerts} now={now} showExecution={false} />
          : <p class="text-sm text-gray-500 dark:text-gray-400">No alerts were raised for this run.</p>}
      </section>
    </Layout>
  );
}
