import { type DailyOutcome, type DayState, dayState } from "../lib/charts.ts";
import { formatCount } from "../lib/format.ts";

const CELL = 12;
const SQUARE = 10;

const DAY_FILL: Record<DayState, string> = {
  completed: "fill-green-500 dark:fill-green-500",
  failed: "fill-red-600 dark:fill-red-500",
  running: "fill-blue-500 dark:fill-blue-400",
  skipped: "fill-gray-400 dark:fill-gray-600",
  none: "fill-gray-200 dark:fill-gray-800",
};

const LEGEND: Record<DayState, string> = {
  completed: "All completed",
  failed: "Some failed (✕)",
  running: "Running, nothing finished",
  skipped: "Only skipped runs",
  none: "No runs",
};

/** One square per day, oldest on the left: green all completed, red with a ✕ when any failed, gray idle. */
export function DailyStrip({ days }: { days: DailyOutcome[] }) {
  if (days.length === 0) {
    return <p class="text-sm text-gray-500 dark:text-gray-400">No daily history yet</p>;
  }
  const summaries = days.map((day) => ({ day, state: dayState(day) }));
  const width = days.length * CELL - (CELL - SQUARE);
  const present = new Set(summaries.map((s) => s.state));
  // The three everyday states are always explained; the rarer ones only when they appear.
  const legend = (["completed", "failed", "none", "running", "skipped"] as const).filter((state) =>
    state === "completed" || state === "failed" || state === "none" || present.has(state)
  );
  return (
    <figure class="w-full max-w-xl">
      <svg
        viewBox={`0 0 ${width} ${SQUARE}`}
        width="100%"
        class="block h-auto w-full"
        role="img"
        aria-label={summary(summaries.map((s) => s.state), days)}
        data-chart="daily"
      >
        {summaries.map(({ day, state }, i) => {
          const x = i * CELL;
          return (
            <g key={day.day} data-day={day.day} data-state={state}>
              <title>{dayTitle(day)}</title>
              <rect x={x} y={0} width={SQUARE} height={SQUARE} rx={2} class={DAY_FILL[state]} />
              {state === "failed" && (
                <path
                  d={`M${x + 2.5} 2.5L${x + 7.5} 7.5M${x + 7.5} 2.5L${x + 2.5} 7.5`}
                  class="stroke-white"
                  stroke-width="1.5"
                  stroke-linecap="round"
                  data-mark="failed"
                />
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="mt-1 text-xs text-gray-500 dark:text-gray-400">
        <span class="flex justify-between gap-4">
          <span>{days[0].day}</span>
          <span>{days[days.length - 1].day}</span>
        </span>
        <span class="mt-1 flex flex-wrap gap-x-3 gap-y-1">
          {legend.map((state) => (
            <span key={state} class="inline-flex items-center gap-1">
              <svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" rx="2" class={DAY_FILL[state]} />
                {state === "failed" && (
                  <path
                    d="M2.5 2.5L7.5 7.5M7.5 2.5L2.5 7.5"
                    class="stroke-white"
                    stroke-width="1.5"
                    stroke-linecap="round"
                  />
                )}
              </svg>
              {LEGEND[state]}
            </span>
          ))}
        </span>
      </figcaption>
    </figure>
  );
}

/** "2027-03-08: 24 completed, 1 failed", with skipped and running runs when there are any. */
function dayTitle(day: DailyOutcome): string {
  const total = day.completed + day.failed + day.skipped + day.running;
  if (total === 0) return `${day.day}: no runs`;
  const parts = [`${formatCount(day.completed)} completed`, `${formatCount(day.failed)} failed`];
  if (day.skipped > 0) parts.push(`${formatCount(day.skipped)} skipped`);
  if (day.running > 0) parts.push(`${formatCount(day.running)} running`);
  return `${day.day}: ${parts.join(", ")}`;
}

function summary(states: DayState[], days: DailyOutcome[]): string {
  const count = (state: DayState) => states.filter((s) => s === state).length;
  const plural = (n: number, what: string) => `${n} ${n === 1 ? "day" : "days"} ${what}`;
  const parts = [
    plural(count("completed"), "all completed"),
    plural(count("failed"), "with failures"),
    plural(count("none"), "without runs"),
  ];
  if (count("running") > 0) parts.push(plural(count("running"), "still running"));
  if (count("skipped") > 0) parts.push(plural(count("skipped"), "only skipped"));
  return `Outcomes of the last ${days.length} days, ${days[0].day} to ${days[days.length - 1].day}: ${
    parts.join(", ")
  }.`;
}
