/**
 * The words of an alert: its subject and its one-line summary, shared by the
 * e-mail, the webhook and the pages. Plain text; callers escape for their medium.
 */
import { formatDuration, formatExactUtc } from "../format.ts";
import type { AlertDetails, AlertKind } from "./types.ts";

interface Describable {
  kind: AlertKind;
  jobName: string;
  details: AlertDetails;
}

/** Control characters (CR, LF…) would let a job name forge e-mail headers; they become spaces. */
export function singleLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
}

/** "Job failed: Weekly Digest Email", etc. One line, no control characters. */
export function alertSubject({ kind, jobName, details }: Describable): string {
  const name = singleLine(jobName);
  switch (kind) {
    case "failure": {
      const failures = details.consecutiveFailures ?? 1;
      return failures > 1 ? `Job failed: ${name} (${failures} in a row)` : `Job failed: ${name}`;
    }
    case "reminder":
      return `Still failing: ${name}`;
    case "recovery":
      return `Job recovered: ${name}`;
    case "warning":
      return details.warning === "fast"
        ? `Job warning: ${name} finished suspiciously fast`
        : `Job warning: ${name} ran longer than expected`;
    case "overdue":
      return `Job overdue: ${name}`;
    case "back_on_schedule":
      return `Job running again: ${name}`;
  }
}

/** One sentence that says what happened, e.g. "Weekly Digest recovered after 4 failed runs, down for 3 h 10 min." */
export function alertSummary({ kind, jobName, details }: Describable): string {
  const name = singleLine(jobName);
  const runs = (n: number) => `${n} failed run${n === 1 ? "" : "s"}`;
  switch (kind) {
    case "failure": {
      const failures = details.consecutiveFailures ?? 1;
      return failures > 1 ? `${name} failed ${failures} times in a row.` : `${name} failed.`;
    }
    case "reminder":
      return `${name} is still failing: ${runs(details.consecutiveFailures ?? 0)} in a row` +
        (details.failingSince ? `, failing since ${formatExactUtc(details.failingSince)}.` : ".");
    case "recovery":
      return `${name} recovered after ${runs(details.consecutiveFailures ?? 0)}` +
        (details.downForMs !== undefined ? `, down for ${formatDuration(details.downForMs)}.` : ".");
    case "warning": {
      const took = details.durationMs != null ? formatDuration(details.durationMs) : "an unknown time";
      const limit = details.limitMs !== undefined ? formatDuration(details.limitMs) : "its limit";
      return details.warning === "fast"
        ? `${name} finished suspiciously fast: it took ${took}, expected at least ${limit}.`
        : `${name} ran longer than expected: it took ${took}, expected at most ${limit}.`;
    }
    case "overdue":
      return `${name} has not started ` +
        (details.lastStartedAt ? `since ${formatExactUtc(details.lastStartedAt)}` : "since it was added") +
        (details.expectedBy ? `; it was expected by ${formatExactUtc(details.expectedBy)}.` : ".");
    case "back_on_schedule":
      return `${name} started again` +
        (details.overdueForMs !== undefined
          ? ` after being overdue for ${formatDuration(details.overdueForMs)}.`
          : ".");
  }
}

/** A short label for a kind, for lists and badges. */
export const ALERT_KIND_LABELS: Record<AlertKind, string> = {
  failure: "Failure",
  reminder: "Reminder",
  recovery: "Recovered",
  warning: "Warning",
  overdue: "Overdue",
  back_on_schedule: "Back on schedule",
};
