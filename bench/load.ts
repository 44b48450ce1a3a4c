/**
 * The load generator: a separate process that keeps a fixed number of
 * requests in flight against the app for a warm-up, then for a measured
 * duration, and prints what it saw as one JSON line. Each of the
 * `connections` workers sends its next request when the previous one has
 * been answered (a closed loop), so the rate measured is what the server
 * sustains at that concurrency.
 *
 *   deno run -A bench/load.ts '<LoadSpec as JSON>'
 */

import { HttpConnection } from "./http_client.ts";

/** GET (or POST) one URL again and again. */
export interface RequestSpec {
  kind: "request";
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

/** An external job's run: POST …/start then POST …/complete, timed as one. Worker i reports for job i (mod n). */
export interface IngestSpec {
  kind: "ingest";
  baseUrl: string;
  jobs: { jobId: string; token: string }[];
}

export type LoadSpec = (RequestSpec | IngestSpec) & {
  connections: number;
  warmupMs: number;
  /** How long to measure; with `untilPath`, the longest it may go on. */
  durationMs: number;
  /** Measure until this file exists (the caller's "stop"), checked every 100 ms. */
  untilPath?: string;
};

export interface LoadResult {
  requests: number;
  /** Responses whose status was not 2xx, by status ("error" for network failures). */
  failures: Record<string, number>;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  durationMs: number;
}

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
export function percentile(sorted: Float64Array | number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}

type Operation = () => Promise<number>;

/** One unit of work per spec, on the worker's own connection; resolves to the HTTP status that decides success. */
function operation(spec: LoadSpec, worker: number): Operation {
  if (spec.kind === "request") {
    const url = new URL(spec.url);
    const connection = new HttpConnection(url.origin);
    // Like a browser: it takes gzip (the server's work is to send it; inflating it is the client's).
    const headers = { "accept-encoding": "gzip, br", ...spec.headers };
    return async () =>
      (await connection.request(spec.method ?? "GET", url.pathname + url.search, headers, spec.body)).status;
  }
  const { jobId, token } = spec.jobs[worker % spec.jobs.length];
  const connection = new HttpConnection(spec.baseUrl);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  let sequence = 0;
  return async () => {
    const periodKey = `load-${Date.now()}-${worker}-${sequence++}`;
    const started = await connection.request(
      "POST",
      `/api/runs/${jobId}/start`,
      headers,
      JSON.stringify({ periodKey }),
    );
    const run = JSON.parse(new TextDecoder().decode(started.body)) as { id?: string };
    if (started.status !== 201 || !run.id) return started.status;
    const completed = await connection.request(
      "POST",
      `/api/runs/${run.id}/complete`,
      headers,
      JSON.stringify({ result: { rows: sequence } }),
    );
    return completed.status;
  };
}

/** Runs the closed loop for `durationMs` and returns the latencies it measured. */
async function drive(spec: LoadSpec, durationMs: number, record: boolean) {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const until = performance.now() + durationMs;
  const began = performance.now();
  let stopped = false;
  const watcher = record && spec.untilPath
    ? setInterval(() => {
      try {
        Deno.statSync(spec.untilPath!);
        stopped = true;
      } catch {
        // Not there yet.
      }
    }, 100)
    : undefined;
  const measuring = () => !stopped && performance.now() < until;
  await Promise.all(Array.from({ length: spec.connections }, async (_, worker) => {
    const run = operation(spec, worker);
    while (measuring()) {
      const start = performance.now();
      let status: number | "error";
      try {
        status = await run();
      } catch {
        status = "error";
      }
      const elapsed = performance.now() - start;
      if (!record) continue;
      latencies.push(elapsed);
      if (status === "error" || status < 200 || status > 299) {
        failures[String(status)] = (failures[String(status)] ?? 0) + 1;
      }
    }
  }));
  clearInterval(watcher);
  return { latencies, failures, elapsedMs: performance.now() - began };
}

/** Warms up, measures, and summarises one scenario. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupMs > 0) await drive(spec, spec.warmupMs, false);
  const { latencies, failures, elapsedMs } = await drive(spec, spec.durationMs, true);
  const sorted = Float64Array.from(latencies).sort();
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    requests: sorted.length,
    failures,
    perSecond: round(sorted.length / (elapsedMs / 1000)),
    p50Ms: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.length > 0 ? sorted[sorted.length - 1] : NaN),
    durationMs: Math.round(elapsedMs),
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0]) as LoadSpec;
  console.log(JSON.stringify(await runLoad(spec)));
}
