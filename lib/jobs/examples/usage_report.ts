/**
 * `usage-report` (example): rolls the previous UTC day's `usage_events` up
 * into `usage_daily`.
 */
import { defineJob, type Job, type JobContext } from "../define.ts";

export interface UsageReport {
  /** The UTC day reported, `YYYY-MM-DD`. */
  day: string;
  workspaces: number;
  metrics: number;
  events: number;
}

const DAY_MS = 86_400_000;

/** The UTC day before `now`, as `YYYY-MM-DD` with its [start, end) instants. */
export function previousUtcDay(now: Date): { day: string; start: Date; end: Date } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const start = new Date(end.getTime() - DAY_MS);
  return { day: start.toISOString().slice(0, 10), start, end };
}

/**
 * Aggregates the UTC day before `now` into `usage_daily`. It is one upsert
 * that overwrites the day's totals, so running a day twice (a retry, a
 * manual run) gives the same rows, and late events are counted by a re-run.
 */
export async function reportUsage(ctx: JobContext, now: Date): Promise<UsageReport> {
  const { sql, signal, log } = ctx;
  const { day, start, end } = previousUtcDay(now);
  signal.throwIfAborted();
  // usage_events_occurred_at_idx bounds the scan to the one day.
  const rows = await sql<{ workspaceId: string; metric: string; events: number }[]>`
    INSERT INTO usage_daily (day, workspace_id, metric, total, events)
    SELECT ${day}::date, workspace_id, metric, sum(quantity), count(*)::int
    FROM usage_events
    WHERE occurred_at >= ${start} AND occurred_at < ${end}
    GROUP BY workspace_id, metric
    ON CONFLICT (day, workspace_id, metric) DO UPDATE
      SET total  = excluded.total,
          events = excluded.events
    RETURNING workspace_id, metric, events
  `;
  const report: UsageReport = {
    day,
    workspaces: new Set(rows.map((row) => row.workspaceId)).size,
    metrics: new Set(rows.map((row) => row.metric)).size,
    events: rows.reduce((sum, row) => sum + row.events, 0),
  };
  log.info(`aggregated ${report.events} usage events for ${day}`, { ...report });
  return report;
}

export const usageReportJob: Job = defineJob({
  id: "usage-report",
  displayName: "Usage Metering Report",
  description: "Example job: adds up yesterday's (UTC) usage events per workspace and metric " +
    "into daily totals (the demo tables usage_events and usage_daily). Safe to re-run.",
  schedule: "cron(5 0 * * ? *)",
  timezone: "UTC",
  run: (ctx) => reportUsage(ctx, new Date()),
});
