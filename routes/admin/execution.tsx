import type { Context } from "hono";
import { ExecutionDetail } from "../../components/ExecutionDetail.tsx";
import { Layout } from "../../components/Layout.tsx";
import RetryButton from "../../islands/RetryButton.tsx";
import { formatExactUtc, formatRelative } from "../../lib/format.ts";
import type { ExecutionDetail as Execution } from "../../lib/history.ts";
import type { AppEnv } from "../../lib/http/context.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { renderPage } from "../../lib/http/page.ts";
import { getExecutionDetail } from "../../lib/queries/history.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";

/** GET /admin/executions/:id: one execution in full; the alert e-mails link here. */
export async function GET(c: Context<AppEnv>) {
  const id = c.req.param("id")!;
  const execution = await getExecutionDetail(c.var.deps.sql, id);
  if (!execution) throw new HttpError(404, `There is no execution "${id.slice(0, 100)}".`);
  return renderPage(
    c,
    <ExecutionPage user={c.var.user!} execution={execution} now={c.var.deps.now()} />,
    { title: `${execution.jobName} run` },
  );
}

export function ExecutionPage(
  { user, execution, now }: { user: SessionUser; execution: Execution; now: Date },
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
    </Layout>
  );
}
