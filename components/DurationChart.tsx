import { finishedDurations, niceDurationMax, percentile, type RecentRun } from "../lib/charts.ts";
import { formatDuration, formatExactUtc } from "../lib/format.ts";

const WIDTH = 600;
const HEIGHT = 200;
const PLOT_TOP = 30;
const PLOT_BOTTOM = 178;
const PLOT_LEFT = 4;
const PLOT_RIGHT = WIDTH - 4;
/** Fewer runs than this still get narrow bars, drawn at the right (newest) end. */
const MIN_SLOTS = 20;

/** Bar colours by status, light and dark. */
const STATUS_FILL: Record<RecentRun["status"], string> = {
  completed: "fill-green-500 dark:fill-green-400",
  failed: "fill-red-500 dark:fill-red-400",
  running: "fill-blue-500 dark:fill-blue-400",
  skipped: "fill-gray-400 dark:fill-gray-500",
};

const STATUS_LABEL: Record<RecentRun["status"], string> = {
  completed: "Completed",
  failed: "Failed",
  running: "Running",
  skipped: "Skipped",
};

/**
 * SVG text sizes in viewBox units: larger on phones, where the chart is drawn at about half scale, so
 * labels stay about 10-14 px on every screen. A white (or dark) halo keeps them readable over bars.
 */
const LABEL = "text-[22px] sm:text-[11px] fill-gray-600 dark:fill-gray-300 stroke-white dark:stroke-gray-900";

/** Run durations as bars, with dashed p50 and p95 guide lines; each bar links to its execution. */
export function DurationChart({ runs }: { runs: RecentRun[] }) {
  if (runs.length === 0) {
    return (
      <p class="rounded-lg border border-dashed border-gray-300 px-4 py-8 text-center text-sm text-gray-500 dark:border-gray-700 dark:text-gray-400">
        No runs yet
      </p>
    );
  }
  const durations = finishedDurations(runs);
  const p50 = percentile(durations, 50);
  const p95 = percentile(durations, 95);
  const longest = durations.length > 0 ? Math.max(...durations) : 0;
  const axisMax = niceDurationMax(longest);
  const plotHeight = PLOT_BOTTOM - PLOT_TOP;
  const yOf = (ms: number) => PLOT_BOTTOM - Math.min(ms / axisMax, 1) * plotHeight;
  const slot = (PLOT_RIGHT - PLOT_LEFT) / Math.max(runs.length, MIN_SLOTS);
  const barWidth = Math.max(slot * 0.72, 0.8);
  const firstX = PLOT_RIGHT - runs.length * slot;
  const statuses = (["completed", "failed", "running", "skipped"] as const).filter((status) =>
    runs.some((run) => run.status === status)
  );
  // p95 is labelled at the right above its line, p50 at the left (so the two never collide), above its
  // line unless that would run into the axis maximum's label.
  const guides = [
    { name: "p50", value: p50, left: true },
    { name: "p95", value: p95, left: false },
  ].filter((guide): guide is { name: string; value: number; left: boolean } => guide.value !== null)
    .map((guide) => {
      const y = round(yOf(guide.value));
      return { ...guide, y, below: guide.left && y - 26 < PLOT_TOP };
    });

  return (
    <figure class="w-full max-w-3xl">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        class="block h-auto w-full"
        role="img"
        aria-label={summary(runs, p50, p95, longest)}
        data-chart="durations"
      >
        <Rule y={PLOT_TOP} class="stroke-gray-200 dark:stroke-gray-800" />
        <Label x={PLOT_LEFT} y={PLOT_TOP - 6}>{formatDuration(axisMax)}</Label>
        {runs.map((run, i) => {
          const x = firstX + i * slot + (slot - barWidth) / 2;
          const height = barHeight(run, yOf);
          return (
            <a key={run.id} href={`/admin/executions/${encodeURIComponent(run.id)}`} tabindex={-1}>
              <title>{barTitle(run)}</title>
              <rect
                x={round(firstX + i * slot)}
                y={PLOT_TOP}
                width={round(slot)}
                height={plotHeight}
                class="fill-transparent hover:fill-gray-900/5 dark:hover:fill-white/10"
              />
              <rect
                x={round(x)}
                y={round(PLOT_BOTTOM - height)}
                width={round(barWidth)}
                height={round(height)}
                class={STATUS_FILL[run.status]}
                data-status={run.status}
              />
              {run.status === "failed" && (
                // A dot above failed bars, so they stand out without colour.
                <rect
                  x={round(x)}
                  y={round(PLOT_BOTTOM - height - 5)}
                  width={round(barWidth)}
                  height={3}
                  class="fill-red-800 dark:fill-red-200"
                />
              )}
            </a>
          );
        })}
        <Rule y={PLOT_BOTTOM} class="stroke-gray-300 dark:stroke-gray-700" />
        {guides.map(({ name, value, y, left, below }) => {
          return (
            <g key={name} data-guide={name}>
              <Rule y={y} class="stroke-gray-600 dark:stroke-gray-300" dashed />
              <Label
                x={left ? PLOT_LEFT : PLOT_RIGHT}
                y={below ? y + 4 : y - 4}
                anchor={left ? "start" : "end"}
                hanging={below}
              >
                {`${name} ${formatDuration(value)}`}
              </Label>
            </g>
          );
        })}
      </svg>
      <figcaption class="mt-1 text-xs text-gray-500 dark:text-gray-400">
        <span class="flex justify-between gap-4">
          <span>{formatExactUtc(runs[0].startedAt).slice(0, 10)}</span>
          <span>{formatExactUtc(runs[runs.length - 1].startedAt).slice(0, 10)}</span>
        </span>
        <span class="mt-1 flex flex-wrap gap-x-3 gap-y-1">
          {statuses.map((status) => (
            <span key={status} class="inline-flex items-center gap-1">
              <svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" class={STATUS_FILL[status]} />
              </svg>
              {status === "failed" ? "Failed (dot above the bar)" : STATUS_LABEL[status]}
            </span>
          ))}
          {guides.length > 0 && <span>Dashed lines: median (p50) and 95th percentile (p95)</span>}
        </span>
      </figcaption>
    </figure>
  );
}

/** A horizontal line across the plot at `y`: its top, its base, or a dashed guide. */
function Rule({ y, class: className, dashed = false }: { y: number; class: string; dashed?: boolean }) {
  return (
    <line
      x1={PLOT_LEFT}
      x2={PLOT_RIGHT}
      y1={y}
      y2={y}
      class={className}
      stroke-width="1"
      stroke-dasharray={dashed ? "5 4" : undefined}
    />
  );
}

/** A label in the plot, haloed so it stays readable over bars and lines. */
function Label(
  { x, y, anchor, hanging = false, children }: {
    x: number;
    y: number;
    anchor?: "start" | "end";
    /** Hangs below `y` instead of standing on it. */
    hanging?: boolean;
    children: string;
  },
) {
  return (
    <text
      x={x}
      y={y}
      text-anchor={anchor}
      dominant-baseline={hanging ? "hanging" : undefined}
      class={LABEL}
      stroke-width="3"
      paint-order="stroke"
    >
      {children}
    </text>
  );
}

/** Finished runs are as tall as they took; running and skipped runs are a small marker at the base. */
function barHeight(run: RecentRun, yOf: (ms: number) => number): number {
  if (run.status === "running" && run.durationMs === null) return 6;
  if (run.status === "skipped" || run.durationMs === null) return 3;
  return Math.max(PLOT_BOTTOM - yOf(run.durationMs), 1.5);
}

function barTitle(run: RecentRun): string {
  const took = run.durationMs !== null
    ? formatDuration(run.durationMs)
    : run.status === "running"
    ? "still running"
    : "no duration";
  return `${STATUS_LABEL[run.status]} · ${formatExactUtc(run.startedAt)} · ${took}`;
}

function summary(runs: RecentRun[], p50: number | null, p95: number | null, longest: number): string {
  const counts = (["completed", "failed", "running", "skipped"] as const)
    .map((status) => [status, runs.filter((run) => run.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`);
  const parts = [
    `Durations of the last ${runs.length} ${runs.length === 1 ? "run" : "runs"}: ${counts.join(", ")}`,
  ];
  if (p50 !== null && p95 !== null) {
    parts.push(`p50 ${formatDuration(p50)}, p95 ${formatDuration(p95)}, longest ${formatDuration(longest)}`);
  }
  return `${parts.join("; ")}.`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
