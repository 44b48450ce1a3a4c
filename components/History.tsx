/**
 * The execution history block shared by the dashboard and a job's page: a
 * GET form of filters (with each invalid value's message next to its
 * field), the live history island, and keyset page links that keep the
 * filters. Works fully without JavaScript: filtering and paging are links
 * and form submissions, and every row links to its permalink.
 */
import type { ComponentChildren } from "preact";
import ExecutionHistory from "../islands/ExecutionHistory.tsx";
import { formatCount } from "../lib/format.ts";
import {
  EXECUTION_STATUSES,
  type HistoryIssue,
  type HistoryPage,
  type HistoryQuery,
  historySearch,
  MAX_LIMIT,
  TRIGGERS,
} from "../lib/history.ts";

export interface HistoryProps {
  page: HistoryPage;
  query: HistoryQuery;
  issues: HistoryIssue[];
  /** Jobs for the job filter; omitted on a job's own page, where the job is fixed. */
  jobs?: { id: string; displayName: string }[];
  /** The job of a job's own page. */
  fixedJobId?: string;
  /** Where the form and the page links point. */
  basePath: string;
  isAdmin: boolean;
  now: Date;
}

const STATUS_LABELS: Record<string, string> = {
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  skipped: "Skipped",
};
const TRIGGER_LABELS: Record<string, string> = {
  scheduled: "Scheduled",
  manual: "Manual",
  external: "External",
};

const FIELD =
  "mt-1 block w-full rounded-lg border border-gray-300 bg-white px-2 py-1.5 text-sm dark:border-gray-700 dark:bg-gray-800";

function FieldError({ id, issues, field }: { id: string; issues: HistoryIssue[]; field: string }) {
  const messages = issues.filter((issue) => issue.field === field).map((issue) => issue.message);
  if (messages.length === 0) return null;
  return (
    <p id={id} class="mt-1 text-xs text-red-700 dark:text-red-300" data-testid={`error-${field}`}>
      {messages.join("; ")}
    </p>
  );
}

/** `2027-03-08T09:00:05` for a datetime-local field (read back as UTC). */
function localValue(date: Date | undefined): string | undefined {
  return date ? date.toISOString().slice(0, 19) : undefined;
}

/** The id of a filter's message, which its control's aria-describedby names. */
const errorId = (name: string) => `filter-${name}-error`;

/** For a filter whose value was refused: `aria-invalid`, and `aria-describedby` naming its message. */
function refusal(name: string, issues: HistoryIssue[]) {
  const invalid = issues.some((issue) => issue.field === name);
  return {
    invalid: invalid ? ("true" as const) : undefined,
    describedBy: invalid ? errorId(name) : undefined,
  };
}

/** A filter's label around its control, with the message for a refused value below it. */
function FilterLabel(
  { name, label, issues, grow = false, children }: {
    name: string;
    label: string;
    issues: HistoryIssue[];
    /** Takes the row's free width (beside the Filter button). */
    grow?: boolean;
    children: ComponentChildren;
  },
) {
  return (
    <label class={`block ${grow ? "flex-1 " : ""}text-xs font-medium text-gray-600 dark:text-gray-300`}>
      {label}
      {children}
      <FieldError id={errorId(name)} issues={issues} field={name} />
    </label>
  );
}

/** A filter's select with "All" first, and the refusal message for its field. */
export function FilterSelect(
  { name, label, value, options, issues }: {
    name: string;
    label: string;
    value: string | undefined;
    options: [string, string][];
    issues: HistoryIssue[];
  },
) {
  const refused = refusal(name, issues);
  return (
    <FilterLabel name={name} label={label} issues={issues}>
      <select
        name={name}
        class={FIELD}
        aria-invalid={refused.invalid}
        aria-describedby={refused.describedBy}
      >
        <option value="">All</option>
        {options.map(([optionValue, text]) => (
          <option value={optionValue} selected={optionValue === value}>{text}</option>
        ))}
      </select>
    </FilterLabel>
  );
}

function DateField(
  { name, label, value, issues }: {
    name: string;
    label: string;
    value: Date | undefined;
    issues: HistoryIssue[];
  },
) {
  const refused = refusal(name, issues);
  return (
    <FilterLabel name={name} label={label} issues={issues}>
      <input
        type="datetime-local"
        step={1}
        name={name}
        value={localValue(value)}
        class={FIELD}
        aria-invalid={refused.invalid}
        aria-describedby={refused.describedBy}
      />
    </FilterLabel>
  );
}

/** Island props are plain JSON, which has no `undefined`. */
function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >;
}

export function History({ page, query, issues, jobs, fixedJobId, basePath, isAdmin, now }: HistoryProps) {
  const filters = {
    jobId: fixedJobId ? undefined : query.jobId,
    status: query.status,
    trigger: query.trigger,
    from: query.from,
    to: query.to,
    limit: query.limit,
  };
  // The newest page, however it was reached (a "Newer" link can lead back to it), is live.
  const firstPage = page.prevCursor === null;
  const cursorIssue = issues.find((issue) => issue.field === "after" || issue.field === "before");
  const filtered = !!(query.jobId && !fixedJobId) || !!query.status || !!query.trigger || !!query.from ||
    !!query.to;
  const eventsUrl = fixedJobId
    ? `/api/admin/events?jobId=${encodeURIComponent(fixedJobId)}`
    : "/api/admin/events";
  const linkClass =
    "rounded-lg border border-gray-200 px-3 py-1.5 text-sm hover:bg-gray-100 dark:border-gray-700 dark:hover:bg-gray-800";
  return (
    <section aria-labelledby="history-heading" class="mt-10">
      <div class="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="history-heading" class="text-lg font-semibold">Execution history</h2>
        <p class="text-sm text-gray-500 dark:text-gray-400" data-testid="history-total">
          {formatCount(page.total.value, page.total.estimated)}{" "}
          {page.total.value === 1 && !page.total.estimated ? "execution" : "executions"}
          {filtered ? " match these filters" : ""}
        </p>
      </div>

      <form
        method="get"
        action={basePath}
        class="mt-3 grid grid-cols-2 gap-3 rounded-xl border border-gray-200 bg-white p-3 sm:grid-cols-3 lg:grid-cols-6 dark:border-gray-800 dark:bg-gray-900"
        aria-label="Filter executions"
      >
        {jobs && (
          <FilterSelect
            name="jobId"
            label="Job"
            value={query.jobId}
            options={jobs.map((job) => [job.id, job.displayName])}
            issues={issues}
          />
        )}
        <FilterSelect
          name="status"
          label="Status"
          value={query.status}
          options={EXECUTION_STATUSES.map((status) => [status, STATUS_LABELS[status]])}
          issues={issues}
        />
        <FilterSelect
          name="trigger"
          label="Trigger"
          value={query.trigger}
          options={TRIGGERS.map((trigger) => [trigger, TRIGGER_LABELS[trigger]])}
          issues={issues}
        />
        <DateField name="from" label="From (UTC)" value={query.from} issues={issues} />
        <DateField name="to" label="To (UTC)" value={query.to} issues={issues} />
        <div class="flex items-end gap-2">
          <FilterLabel name="limit" label="Per page" issues={issues} grow>
            <select name="limit" class={FIELD}>
              {[25, 50, 100].filter((n) => n <= MAX_LIMIT).map((n) => (
                <option value={String(n)} selected={n === query.limit}>{n}</option>
              ))}
            </select>
          </FilterLabel>
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
          <a href={basePath} class="text-blue-700 hover:underline dark:text-blue-300">Clear filters</a>
        </p>
      )}
      {cursorIssue && (
        <p class="mt-2 text-sm text-red-700 dark:text-red-300" data-testid="error-cursor">
          That page link {cursorIssue.message}. Showing the newest executions.
        </p>
      )}

      <div class="mt-4">
        <ExecutionHistory
          rows={page.executions}
          canRetry={isAdmin}
          live={firstPage}
          filters={definedOnly({
            jobId: fixedJobId ?? query.jobId,
            status: query.status,
            trigger: query.trigger,
            from: query.from?.toISOString(),
            to: query.to?.toISOString(),
          })}
          renderedAt={now.toISOString()}
          eventsUrl={eventsUrl}
          hasOlder={page.nextCursor !== null}
        />
      </div>

      {(page.prevCursor || page.nextCursor) && (
        <nav aria-label="History pages" class="mt-4 flex justify-between gap-2">
          {page.prevCursor
            ? (
              <a
                class={linkClass}
                rel="prev"
                href={`${basePath}${historySearch({ ...filters, before: page.prevCursor })}`}
              >
                ← Newer
              </a>
            )
            : <span />}
          {page.nextCursor && (
            <a
              class={linkClass}
              rel="next"
              href={`${basePath}${historySearch({ ...filters, after: page.nextCursor })}`}
            >
              Older →
            </a>
          )}
        </nav>
      )}
    </section>
  );
}
