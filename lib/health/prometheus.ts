/**
 * /metrics in Prometheus's text exposition format (version 0.0.4), from a
 * MetricsSnapshot. Pure. Label values are escaped as the format requires
 * (backslash, double quote, newline), so no job id can break a line.
 *
 * The job's label is `job_id`, not `job`: Prometheus sets `job` on every
 * series to the scrape job's name, and would rename ours to `exported_job`.
 */
import type { MetricsSnapshot } from "./monitor.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const DELIVERY_STATES = ["pending", "sending", "sent", "failed", "suppressed", "not_sent"];
const CHANNELS = ["email", "webhook"];

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([key, label]) => `${key}="${escapeLabel(label)}"`);
  const text = Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";
  return `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${text}`;
}

class Exposition {
  readonly lines: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  add(name: string, labels: Labels, value: number): void {
    this.lines.push(sample(name, labels, value));
  }
}

/** The snapshot as Prometheus text, ending with a newline. */
export function renderMetrics(snapshot: MetricsSnapshot): string {
  const out = new Exposition();

  out.family(
    "jobwatch_executions_total",
    "counter",
    "Finished executions (completed, failed, skipped) by job and status.",
  );
  for (const row of snapshot.stats) {
    out.add("jobwatch_executions_total", { job_id: row.jobId, status: row.status }, row.runs);
  }

  out.family(
    "jobwatch_execution_duration_seconds",
    "histogram",
    "How long completed and failed executions took, by job.",
  );
  const byJob = new Map<string, { buckets: number[]; sumMs: number; count: number }>();
  for (const row of snapshot.stats) {
    if (row.status === "skipped") continue;
    const job = byJob.get(row.jobId) ?? { buckets: row.buckets.map(() => 0), sumMs: 0, count: 0 };
    row.buckets.forEach((count, index) => job.buckets[index] += count);
    job.sumMs += row.durationSumMs;
    job.count += row.buckets.reduce((total, count) => total + count, 0);
    byJob.set(row.jobId, job);
  }
  for (const [jobId, job] of byJob) {
    let cumulative = 0;
    job.buckets.forEach((count, index) => {
      cumulative += count;
      const bound = snapshot.boundsMs[index];
      const le = bound === undefined ? "+Inf" : String(bound / 1000);
      out.add("jobwatch_execution_duration_seconds_bucket", { job_id: jobId, le }, cumulative);
    });
    out.add("jobwatch_execution_duration_seconds_sum", { job_id: jobId }, job.sumMs / 1000);
    out.add("jobwatch_execution_duration_seconds_count", { job_id: jobId }, job.count);
  }

  out.family(
    "jobwatch_job_last_success_timestamp_seconds",
    "gauge",
    "When each job's latest completed run started, in Unix seconds (absent for a job that never succeeded).",
  );
  for (const job of snapshot.jobs) {
    if (job.lastSuccessAt) {
      out.add(
        "jobwatch_job_last_success_timestamp_seconds",
        { job_id: job.id },
        job.lastSuccessAt.getTime() / 1000,
      );
    }
  }

  out.family(
    "jobwatch_job_last_status",
    "gauge",
    "Each job's latest finished run: 1 on the label of its status, 0 on the other.",
  );
  for (const job of snapshot.jobs) {
    if (job.lastFinishedStatus === null) continue;
    for (const status of ["completed", "failed"]) {
      out.add(
        "jobwatch_job_last_status",
        { job_id: job.id, status },
        job.lastFinishedStatus === status ? 1 : 0,
      );
    }
  }

  out.family("jobwatch_job_healthy", "gauge", "1 when /health/jobs counts the job as healthy, else 0.");
  for (const job of snapshot.jobs) out.add("jobwatch_job_healthy", { job_id: job.id }, job.healthy ? 1 : 0);

  out.family("jobwatch_alert_deliveries", "gauge", "Alert deliveries by channel and state, as they stand.");
  const counts = new Map(snapshot.deliveries.map((d) => [`${d.channel}/${d.state}`, d.count]));
  for (const channel of CHANNELS) {
    for (const state of DELIVERY_STATES) {
      out.add("jobwatch_alert_deliveries", { channel, state }, counts.get(`${channel}/${state}`) ?? 0);
    }
  }

  out.family(
    "jobwatch_scheduler_lag_seconds",
    "gauge",
    "How far the oldest scheduler cursor of an enabled in-process job is behind now (a minute or less when ticks run).",
  );
  if (snapshot.schedulerLagSeconds !== null) {
    out.add("jobwatch_scheduler_lag_seconds", {}, Math.max(0, snapshot.schedulerLagSeconds));
  }
  return `${out.lines.join("\n")}\n`;
}
