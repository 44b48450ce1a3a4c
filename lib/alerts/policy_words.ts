/** A job's alert policy in words, for its page. Pure. */
import { formatDuration } from "../format.ts";
import type { AlertPolicy } from "./policy.ts";

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st… */
export function ordinal(n: number): string {
  const lastTwo = n % 100;
  const suffix = lastTwo >= 11 && lastTwo <= 13
    ? "th"
    : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[
      n % 10
    ] ?? "th";
  return `${n}${suffix}`;
}

/** An interval as people say it: "24 h" rather than "1 d", "7 d" rather than "168 h". */
export function formatInterval(ms: number): string {
  const hours = ms / 3_600_000;
  if (Number.isInteger(hours) && hours >= 1) {
    return hours >= 48 && hours % 24 === 0 ? `${hours / 24} d` : `${hours} h`;
  }
  return formatDuration(ms);
}

/**
 * "Alerts on the 1st failure, then every 3rd in a row; reminds every 24 h
 * while failing; warns under 1 s / over 10 min", or that alerts are off.
 */
export function describeAlertPolicy(policy: AlertPolicy): string {
  if (!policy.enabled) return "Alerts are off for this job (alert: false).";
  const parts = [
    policy.every === 1
      ? "Alerts on every failure"
      : `Alerts on the 1st failure, then every ${ordinal(policy.every)} in a row`,
  ];
  if (policy.remindEveryMs !== null) {
    parts.push(`reminds every ${formatInterval(policy.remindEveryMs)} while failing`);
  }
  const bounds = [
    policy.minDurationMs !== null ? `under ${formatDuration(policy.minDurationMs)}` : null,
    policy.maxDurationMs !== null ? `over ${formatDuration(policy.maxDurationMs)}` : null,
  ].filter((bound) => bound !== null);
  if (bounds.length > 0) parts.push(`warns when a run takes ${bounds.join(" or ")}`);
  return `${parts.join("; ")}.`;
}
