import { numericFieldCounts, type NumericSeries, numericSeries, type RecentRun } from "../lib/charts.ts";
import { formatCount, formatExactUtc } from "../lib/format.ts";

const WIDTH = 240;
const HEIGHT = 64;
const PAD = 5;
const MAX_FIELDS = 6;
/** Above this many runs, points are drawn as a line only. */
const DENSE_RUNS = 60;

/**
 * The numeric fields of the runs' results as small multiples: one line chart per field, each with its
 * own scale from zero, its latest value and its min and max, so `{ sent: 42, failed: 3 }` reads as two
 * lines and a digest that suddenly sends 0 shows as a drop to the bottom. Nothing when there are no runs.
 */
export function ResultChart({ runs }: { runs: RecentRun[] }) {
  if (runs.length === 0) return null;
  const series = numericSeries(runs, MAX_FIELDS);
  if (series.length === 0) {
    return <p class="text-sm text-gray-500 dark:text-gray-400">Results have no numeric fields</p>;
  }
  const fieldCount = numericFieldCounts(runs).size;
  return (
    <div>
      <ul class="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label="Numeric result fields">
        {series.map((one) => <FieldChart key={one.field} series={one} runCount={runs.length} />)}
      </ul>
      {fieldCount > series.length && (
        <p class="mt-2 text-xs text-gray-500 dark:text-gray-400">
          Showing the {series.length} fields present in the most runs, of {fieldCount}.
        </p>
      )}
    </div>
  );
}

function FieldChart({ series, runCount }: { series: NumericSeries; runCount: number }) {
  const { field, points } = series;
  const values = points.map((point) => point.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const latest = points[points.length - 1];
  // From zero (or below, for negative values), so a drop to 0 reaches the bottom.
  const low = Math.min(0, min);
  const high = Math.max(0, max) === low ? low + 1 : Math.max(0, max);
  const xOf = (index: number) =>
    runCount === 1 ? WIDTH / 2 : PAD + (index / (runCount - 1)) * (WIDTH - 2 * PAD);
  const yOf = (value: number) => HEIGHT - PAD - ((value - low) / (high - low)) * (HEIGHT - 2 * PAD);
  const zeroY = round(yOf(0));
  const lines = segments(points);
  // Many points would blur into a band: then only the line shows, each point an invisible hover target,
  // except the latest and any point without neighbours (no line to show it).
  const dense = runCount > DENSE_RUNS;
  const isolated = new Set(lines.filter((line) => line.length === 1).map((line) => line[0].index));
  return (
    <li class="rounded-lg border border-gray-200 bg-white p-3 dark:border-gray-800 dark:bg-gray-900">
      <div class="flex items-baseline justify-between gap-2">
        <span class="truncate font-mono text-xs text-gray-600 dark:text-gray-300" title={field}>{field}</span>
        <span class="text-lg font-semibold tabular-nums" data-latest>{formatCount(latest.value)}</span>
      </div>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        class="mt-1 block h-auto w-full"
        role="img"
        aria-label={`${field} over ${points.length} of the last ${runCount} runs: latest ${
          formatCount(latest.value)
        }, min ${formatCount(min)}, max ${formatCount(max)}`}
        data-field={field}
      >
        <line
          x1={0}
          x2={WIDTH}
          y1={zeroY}
          y2={zeroY}
          class="stroke-gray-200 dark:stroke-gray-800"
          stroke-width="1"
        />
        {lines.map((segment) => (
          <polyline
            key={segment[0].index}
            points={segment.map((point) => `${round(xOf(point.index))},${round(yOf(point.value))}`).join(" ")}
            fill="none"
            class="stroke-gray-500 dark:stroke-gray-400"
            stroke-width="1.5"
            stroke-linejoin="round"
          />
        ))}
        {points.map((point) => (
          <circle
            key={point.index}
            cx={round(xOf(point.index))}
            cy={round(yOf(point.value))}
            r={point === latest ? 3.5 : dense ? 3 : 2.2}
            class={dense && point !== latest && !isolated.has(point.index)
              ? "fill-transparent hover:fill-gray-700 dark:hover:fill-gray-200"
              : "fill-gray-700 dark:fill-gray-200"}
          >
            <title>{`${field} = ${formatCount(point.value)} · ${formatExactUtc(point.startedAt)}`}</title>
          </circle>
        ))}
      </svg>
      <p class="mt-1 flex justify-between text-xs tabular-nums text-gray-500 dark:text-gray-400">
        <span>min {formatCount(min)}</span>
        <span>max {formatCount(max)}</span>
      </p>
    </li>
  );
}

/** Runs of consecutive points; a run without the field breaks the line. */
function segments(points: NumericSeries["points"]): NumericSeries["points"][] {
  const result: NumericSeries["points"][] = [];
  for (const point of points) {
    const current = result[result.length - 1];
    if (current && current[current.length - 1].index === point.index - 1) current.push(point);
    else result.push([point]);
  }
  return result;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
