import type { Context } from "hono";
import { Layout } from "../../components/Layout.tsx";
import type { AppEnv } from "../../lib/http/context.ts";
import { renderPage } from "../../lib/http/page.ts";
import { type JobDefinition, listJobDefinitions } from "../../lib/queries/jobs.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";
import { parseSchedule } from "../../lib/jobs/schedule.ts";

/** The schedule in plain English; a stored schedule this version cannot read is shown raw. */
function describeSchedule(job: JobDefinition): string | null {
  try {
    return parseSchedule(job.schedule, job.timezone).describe();
  } catch {
    return null;
  }
}

export async function GET(c: Context<AppEnv>) {
  const definitions = await listJobDefinitions(c.var.deps.sql);
  return renderPage(c, <JobsPage user={c.var.user!} definitions={definitions} />, { title: "Jobs" });
}

export function JobsPage({ user, definitions }: { user: SessionUser; definitions: JobDefinition[] }) {
  return (
    <Layout user={user} section="jobs">
      <div class="mb-6">
        <h1 class="text-2xl font-bold">Scheduled jobs</h1>
        <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">
          Every run, its result and how long it took.
        </p>
      </div>
      {definitions.length === 0
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
          <ul class="grid grid-cols-1 gap-4 md:grid-cols-2 lg:grid-cols-3">
            {definitions.map((job) => (
              <li
                key={job.id}
                class="rounded-xl border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900"
              >
                <p class="font-medium">{job.displayName}</p>
                {job.description && (
                  <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">{job.description}</p>
                )}
                <p class="mt-2 text-sm">{describeSchedule(job) ?? job.schedule}</p>
                <p class="mt-1 font-mono text-xs text-gray-400">{job.schedule} · {job.timezone}</p>
                {job.retiredAt
                  ? <p class="mt-2 text-xs font-medium text-gray-500">Retired: no longer defined in code</p>
                  : !job.enabled && <p class="mt-2 text-xs font-medium text-gray-500">Disabled</p>}
                {job.external && <p class="mt-2 text-xs text-gray-500">Runs elsewhere and reports in</p>}
              </li>
            ))}
          </ul>
        )}
    </Layout>
  );
}
