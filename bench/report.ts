/**
 * The benchmark's verdict: the targets of docs/BENCHMARKS.md checked against
 * what a run measured, the results as JSON, and the Markdown table the run
 * writes into docs/BENCHMARKS.md between its markers.
 */
import type { QueryComparison } from "./compare.ts";
import type { LoadResult } from "./load.ts";
import type { TickMeasurement } from "./tick.ts";

/** One scenario's load figures plus the app's peak resident memory while it ran. */
export interface ScenarioResult extends LoadResult {
  name: string;
  connections: number;
  peakRssMB: number;
}

export interface PruneResult {
  retentionDays: number;
  deletedExecutions: number;
  seconds: number;
  /** The dashboard at the same load just before the prune. */
  before: ScenarioResult;
  /** The dashboard while the prune ran. */
  dashboard: ScenarioResult;
}

export interface SizeResult {
  executions: number;
  seedSeconds: number;
  scenarios: ScenarioResult[];
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  generatedAt: string;
  smoke: boolean;
  database: { kind: "postgres" | "pglite"; version: string };
  machine: { cpus: number; memoryGiB: number; os: string };
  versions: { deno: string; v8: string; typescript: string };
  settings: { connections: number; warmupMs: number; durationMs: number; depth: number };
  sizes: SizeResult[];
  growth: { scenario: string; smallP50Ms: number; bigP50Ms: number; ratio: number }[];
  comparisons: QueryComparison[];
  tick: TickMeasurement | null;
  prune: PruneResult | null;
  /** The ingest load against bench/bare_writer.ts on the same data: the table's own cost. */
  ingestFloor: ScenarioResult | null;
  dashboardJsGzipBytes: number;
  peakRssMB: number;
  targets: Target[];
}

/** Scenario names, shared by the run and the targets. */
export const SCENARIOS = {
  dashboard: "dashboard (GET /admin/jobs)",
  page1: "history page 1 (GET /api/admin/jobs)",
  deep: "history page 50,000 deep (cursor)",
  healthUncached: "health, uncached (GET /health/jobs)",
  healthCached: "health, cached (GET /health/jobs)",
  ingest: "external runs (start + complete)",
} as const;

const fixed = (value: number, digits = 1) => Number.isFinite(value) ? value.toFixed(digits) : String(value);

/** Checks every target against the results; a figure that was not measured misses its target. */
export function evaluateTargets(results: Omit<BenchResults, "targets">): Target[] {
  const big = results.sizes[results.sizes.length - 1];
  const scenario = (name: string) => big?.scenarios.find((s) => s.name === name);
  const targets: Target[] = [];
  const add = (
    name: string,
    target: string,
    value: number | undefined,
    met: (v: number) => boolean,
    unit = "",
  ) => {
    const known = value !== undefined && Number.isFinite(value);
    targets.push({
      name,
      target,
      measured: known ? `${fixed(value!)}${unit}` : "not measured",
      met: known && met(value!),
    });
  };
  const dashboard = scenario(SCENARIOS.dashboard);
  add("dashboard p50", "≤ 20 ms", dashboard?.p50Ms, (v) => v <= 20, " ms");
  add("dashboard p99", "≤ 60 ms", dashboard?.p99Ms, (v) => v <= 60, " ms");
  add("dashboard throughput", "≥ 250 requests/s", dashboard?.perSecond, (v) => v >= 250, " requests/s");
  const page1 = scenario(SCENARIOS.page1);
  const deep = scenario(SCENARIOS.deep);
  add(
    "history page 50,000 deep vs page 1 (p50)",
    "≤ 1.5×",
    page1 && deep ? deep.p50Ms / page1.p50Ms : undefined,
    (v) => v <= 1.5,
    "×",
  );
  const offset = results.comparisons.find((c) => c.name.startsWith("history-depth-"));
  add("seed OFFSET query at that depth / ours", "≥ 20×", offset?.ratio, (v) => v >= 20, "×");
  add("health uncached p50", "≤ 5 ms", scenario(SCENARIOS.healthUncached)?.p50Ms, (v) => v <= 5, " ms");
  add(
    "health cached throughput",
    "≥ 3,000 requests/s",
    scenario(SCENARIOS.healthCached)?.perSecond,
    (v) => v >= 3000,
    " requests/s",
  );
  add(
    "external run ingest",
    "≥ 1,500 runs/s",
    scenario(SCENARIOS.ingest)?.perSecond,
    (v) => v >= 1500,
    " runs/s",
  );
  add("scheduler tick, 500 jobs (p50)", "≤ 25 ms", results.tick?.p50Ms, (v) => v <= 25, " ms");
  for (const name of [SCENARIOS.dashboard, SCENARIOS.page1, SCENARIOS.healthUncached]) {
    const growth = results.growth.find((g) => g.scenario === name);
    add(`growth 10k → 1M: ${name.split(" (")[0]}`, "≤ 1.5×", growth?.ratio, (v) => v <= 1.5, "×");
  }
  add("dashboard p99 while pruning", "≤ 60 ms", results.prune?.dashboard.p99Ms, (v) => v <= 60, " ms");
  add("server peak RSS", "≤ 200 MB", results.peakRssMB, (v) => v <= 200, " MB");
  add(
    "dashboard JavaScript, gzipped",
    "≤ 15 KB",
    results.dashboardJsGzipBytes / 1024,
    (v) => v <= 15,
    " KB",
  );
  return targets;
}

/** The Markdown that docs/BENCHMARKS.md shows between its markers. */
export function formatMarkdown(results: BenchResults): string {
  const lines: string[] = [];
  const { machine, database, versions, settings } = results;
  lines.push(
    `Run ${results.generatedAt.slice(0, 16).replace("T", " ")} UTC on ${machine.cpus} cores, ` +
      `${machine.memoryGiB} GiB, ${machine.os}; ${database.kind === "postgres" ? "PostgreSQL" : "PGlite"} ` +
      `${database.version}; Deno ${versions.deno}. ${settings.connections} connections, ` +
      `${settings.warmupMs / 1000} s warm-up, ${settings.durationMs / 1000} s measured per scenario.`,
    "",
    "### Targets",
    "",
    "| target | goal | measured | met |",
    "| --- | --- | --- | --- |",
    ...results.targets.map((t) =>
      `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`
    ),
  );
  for (const size of results.sizes) {
    lines.push(
      "",
      `### ${size.executions.toLocaleString("en-US")} executions (seeded in ${fixed(size.seedSeconds)} s)`,
      "",
      "| scenario | conns | requests/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx | peak RSS MB |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...size.scenarios.map((s) =>
        `| ${s.name} | ${s.connections} | ${fixed(s.perSecond, 0)} | ${fixed(s.p50Ms, 2)} | ${
          fixed(s.p95Ms, 2)
        } | ` +
        `${fixed(s.p99Ms, 2)} | ${fixed(s.maxMs, 1)} | ${
          Object.values(s.failures).reduce((a, b) => a + b, 0)
        } | ` +
        `${fixed(s.peakRssMB, 0)} |`
      ),
    );
  }
  if (results.growth.length > 0) {
    lines.push(
      "",
      "### Growth",
      "",
      "| scenario | p50 small ms | p50 big ms | big / small |",
      "| --- | --- | --- | --- |",
      ...results.growth.map((g) =>
        `| ${g.scenario} | ${fixed(g.smallP50Ms, 2)} | ${fixed(g.bigP50Ms, 2)} | ${fixed(g.ratio, 2)}× |`
      ),
    );
  }
  if (results.ingestFloor) {
    const floor = results.ingestFloor;
    const ours = results.sizes.at(-1)?.scenarios.find((s) => s.name === SCENARIOS.ingest);
    lines.push(
      "",
      "### External runs against a bare writer, same data",
      "",
      `The ingest load at ${floor.connections} connections against bench/bare_writer.ts, a server that does ` +
        `nothing but the INSERT and the UPDATE on the same table (its indexes and counting triggers): ` +
        `${fixed(floor.perSecond, 0)} runs/s, p50 ${fixed(floor.p50Ms, 2)} ms, p99 ${
          fixed(floor.p99Ms, 2)
        } ms, ` +
        `peak RSS ${fixed(floor.peakRssMB, 0)} MB.` +
        (ours
          ? ` Jobwatch: ${fixed(ours.perSecond, 0)} runs/s, ${
            fixed(ours.perSecond / floor.perSecond * 100, 0)
          } % of it.`
          : ""),
    );
  }
  if (results.comparisons.length > 0) {
    lines.push(
      "",
      "### The seed's queries against Jobwatch's, same data",
      "",
      "| screen | seed ms | Jobwatch ms | seed / Jobwatch | plans |",
      "| --- | --- | --- | --- | --- |",
      ...results.comparisons.map((c) =>
        `| ${c.screen} | ${fixed(c.seedMs, 2)} | ${fixed(c.oursMs, 2)} | ${fixed(c.ratio, 1)}× | ` +
        `[seed](../bench/results/${c.seedPlanFile}), [ours](../bench/results/${c.oursPlanFile}) |`
      ),
    );
  }
  if (results.tick) {
    const t = results.tick;
    lines.push(
      "",
      `### Scheduler tick: ${t.jobs} jobs, ${t.ticks} ticks`,
      "",
      `p50 ${fixed(t.p50Ms, 2)} ms, p95 ${fixed(t.p95Ms, 2)} ms, max ${fixed(t.maxMs, 2)} ms; ` +
        `${fixed(t.startedPerTick, 1)} runs started per tick.`,
    );
  }
  if (results.prune) {
    const p = results.prune;
    lines.push(
      "",
      "### Retention while the dashboard is under load",
      "",
      `The retention job (JOB_RETENTION_DAYS=${p.retentionDays}) deleted ` +
        `${p.deletedExecutions.toLocaleString("en-US")} executions in ${
          fixed(p.seconds)
        } s. The dashboard at ` +
        `${p.dashboard.connections} connection${p.dashboard.connections === 1 ? "" : "s"}, before: ` +
        `${fixed(p.before.perSecond, 0)} requests/s, p50 ${fixed(p.before.p50Ms, 2)} ms, ` +
        `p99 ${fixed(p.before.p99Ms, 2)} ms; while pruning: ${fixed(p.dashboard.perSecond, 0)} requests/s, ` +
        `p50 ${fixed(p.dashboard.p50Ms, 2)} ms, p99 ${fixed(p.dashboard.p99Ms, 2)} ms.`,
    );
  }
  return lines.join("\n");
}

export const DOC_START = "<!-- bench:results:start -->";
export const DOC_END = "<!-- bench:results:end -->";

/** docs/BENCHMARKS.md with the generated part replaced (markers added at the end if missing). */
export function replaceGenerated(document: string, generated: string): string {
  const block = `${DOC_START}\n${generated}\n${DOC_END}`;
  const start = document.indexOf(DOC_START);
  const end = document.indexOf(DOC_END);
  if (start === -1 || end === -1) return `${document.trimEnd()}\n\n${block}\n`;
  return document.slice(0, start) + block + document.slice(end + DOC_END.length);
}
