import { Fragment } from "preact";
import type { NextRun } from "../lib/jobs/next_runs.ts";

/** The next runs in the job's zone and in UTC; a run that daylight saving time affects gets a warning. */
export function NextRuns({ runs, timezone }: { runs: NextRun[]; timezone: string }) {
  if (runs.length === 0) {
    return <p class="text-sm text-gray-500 dark:text-gray-400">No upcoming runs: the schedule has ended.</p>;
  }
  return (
    <table class="w-full text-left text-sm">
      <thead class="text-xs text-gray-500 dark:text-gray-400">
        <tr>
          <th scope="col" class="py-1 pr-4 font-medium">Local time ({timezone})</th>
          <th scope="col" class="py-1 font-medium">UTC</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <Fragment key={run.at.toISOString()}>
            <tr class="border-t border-gray-100 dark:border-gray-800">
              <td class="py-1.5 pr-4 tabular-nums">
                <time dateTime={run.at.toISOString()}>{run.local}</time>
              </td>
              <td class="py-1.5 tabular-nums text-gray-500 dark:text-gray-400">{run.utc}</td>
            </tr>
            {run.dst && (
              <tr data-dst={run.dst.kind}>
                <td colSpan={2} class="pb-2">
                  <p class="flex items-start gap-1.5 rounded-md bg-amber-50 px-2 py-1 text-xs text-amber-900 dark:bg-amber-900/30 dark:text-amber-200">
                    <svg
                      viewBox="0 0 16 16"
                      width="14"
                      height="14"
                      aria-hidden="true"
                      class="mt-px shrink-0 fill-amber-500 dark:fill-amber-300"
                    >
                      <path
                        fill-rule="evenodd"
                        d="M8 1.5 15.2 14H.8L8 1.5Zm-.8 4.5v4h1.6V6H7.2Zm0 5.2v1.6h1.6v-1.6H7.2Z"
                      />
                    </svg>
                    <span>
                      <strong class="font-semibold">Daylight saving time:</strong> {run.dst.note}
                    </span>
                  </p>
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
