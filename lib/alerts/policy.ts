/**
 * When to alert, as pure functions of a job's alert state: no I/O, no clock.
 *
 * - The first failure of a streak alerts (after a success, or for a job that
 *   never succeeded), then every `every`-th failure in a row (3rd, 6th, 9th…
 *   by default). A streak counts failed runs since the last completed run;
 *   skipped runs are not runs. Timeouts and reaped runs are failures.
 * - A failing job that completes again sends one recovery.
 * - A completed run outside [minDurationMs, maxDurationMs] warns, once per
 *   excursion: a job that stays slow warns again only after a normal run.
 * - While a job stays failing, `remindEveryMs` re-sends a reminder.
 * - Alerts raised while a job is snoozed are recorded as suppressed; if a
 *   failure alert was among them, the first chance after the snooze (the
 *   next failure, or the next tick while still failing) alerts.
 * - A job that misses its expected start (lib/jobs/lateness.ts) is overdue
 *   once; when it starts again it is back on schedule.
 */
import { headText } from "../text.ts";
import { type AlertDetails, type AlertKind, MAX_ALERT_ERROR_CHARS } from "./types.ts";

/** What a job's definition says about alerting (`alert`, `minDurationMs`, `maxDurationMs` in defineJob). */
export interface AlertPolicy {
  /** `alert: false` turns a job's alerts off; its state is still kept. */
  enabled: boolean;
  /** After the first failure, alert on every `every`-th failure in a row. */
  every: number;
  /** While failing, remind after this long without an alert; null: never. */
  remindEveryMs: number | null;
  minDurationMs: number | null;
  maxDurationMs: number | null;
}

export const DEFAULT_ALERT_POLICY: AlertPolicy = {
  enabled: true,
  every: 3,
  remindEveryMs: null,
  minDurationMs: null,
  maxDurationMs: null,
};

/** A job's alert state (a row of job_alert_state). */
export interface AlertState {
  consecutiveFailures: number;
  failingSince: Date | null;
  lastFailureAlertAt: Date | null;
  durationWarning: "fast" | "slow" | null;
  overdueSince: Date | null;
  /** A failure alert or reminder was suppressed by a snooze: the next chance outside one alerts. */
  alertOwed: boolean;
}

export const INITIAL_ALERT_STATE: AlertState = {
  consecutiveFailures: 0,
  failingSince: null,
  lastFailureAlertAt: null,
  durationWarning: null,
  overdueSince: null,
  alertOwed: false,
};

/** A run that has just finished (skipped runs never reach the policy). */
export interface FinishedRun {
  executionId: string;
  status: "completed" | "failed";
  periodKey: string;
  trigger: string;
  startedAt: Date;
  completedAt: Date;
  durationMs: number | null;
  errorMessage: string | null;
}

/** An alert to raise. */
export interface AlertDraft {
  kind: AlertKind;
  executionId: string | null;
  details: AlertDetails;
}

export interface Decision {
  state: AlertState;
  alerts: AlertDraft[];
}

/** What the clock knows about a job when the scheduler's tick looks at it. */
export interface ClockFacts {
  now: Date;
  /** The job's alerts are snoozed now (they are still raised, and recorded as suppressed). */
  snoozed: boolean;
  /** Whether the job has missed its expected start, and the deadline it missed. */
  late: boolean;
  expectedBy: Date | null;
  lastStartedAt: Date | null;
  /** The latest failed run, for a reminder's text. */
  latestFailure: { executionId: string; errorMessage: string | null } | null;
}

/** Reads job_definitions.alert_policy; anything unreadable falls back to the default. */
export function readAlertPolicy(stored: unknown): AlertPolicy {
  const value = (stored !== null && typeof stored === "object" ? stored : {}) as Record<string, unknown>;
  const positive = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x > 0 ? x : null;
  const every = positive(value.every);
  return {
    enabled: value.enabled !== false,
    every: every !== null && Number.isInteger(every) ? every : DEFAULT_ALERT_POLICY.every,
    remindEveryMs: positive(value.remindEveryMs),
    minDurationMs: positive(value.minDurationMs),
    maxDurationMs: positive(value.maxDurationMs),
  };
}

/** The state and alerts after a run of the job finished; `snoozed`: the job's alerts are snoozed now. */
export function decideOnRun(
  state: AlertState,
  run: FinishedRun,
  policy: AlertPolicy,
  snoozed = false,
): Decision {
  const alerts: AlertDraft[] = [];
  const raise = (kind: AlertKind, details: AlertDetails) => {
    if (policy.enabled) {
      alerts.push({ kind, executionId: run.executionId, details: { ...runFacts(run), ...details } });
    }
  };

  if (run.status === "failed") {
    const failures = state.consecutiveFailures + 1;
    const failingSince = failures === 1 ? run.completedAt : state.failingSince ?? run.completedAt;
    const alertNow = policy.enabled &&
      (failures === 1 || failures % policy.every === 0 || (state.alertOwed && !snoozed));
    if (alertNow) {
      raise("failure", {
        consecutiveFailures: failures,
        errorMessage: errorText(run.errorMessage),
        ...(failures > 1 ? { failingSince: failingSince.toISOString() } : {}),
      });
    }
    return {
      state: {
        ...state,
        consecutiveFailures: failures,
        failingSince,
        lastFailureAlertAt: alertNow ? run.completedAt : state.lastFailureAlertAt,
        alertOwed: alertNow ? snoozed : state.alertOwed,
      },
      alerts,
    };
  }

  if (state.consecutiveFailures > 0) {
    const since = state.failingSince ?? run.completedAt;
    raise("recovery", {
      consecutiveFailures: state.consecutiveFailures,
      failingSince: since.toISOString(),
      downForMs: Math.max(0, run.completedAt.getTime() - since.getTime()),
    });
  }
  const warning = durationWarning(run.durationMs, policy);
  if (warning && warning.kind !== state.durationWarning) {
    raise("warning", { warning: warning.kind, limitMs: warning.limitMs });
  }
  return {
    state: {
      ...state,
      consecutiveFailures: 0,
      failingSince: null,
      lastFailureAlertAt: null,
      durationWarning: warning?.kind ?? null,
      alertOwed: false,
    },
    alerts,
  };
}

/** The state and alerts when time passes: overdue, back on schedule, and reminders. */
export function decideOnClock(state: AlertState, facts: ClockFacts, policy: AlertPolicy): Decision {
  const alerts: AlertDraft[] = [];
  let next = state;

  if (facts.late && state.overdueSince === null) {
    next = { ...next, overdueSince: facts.now };
    if (policy.enabled) {
      alerts.push({
        kind: "overdue",
        executionId: null,
        details: {
          expectedBy: (facts.expectedBy ?? facts.now).toISOString(),
          lastStartedAt: facts.lastStartedAt?.toISOString() ?? null,
        },
      });
    }
  } else if (!facts.late && state.overdueSince !== null) {
    next = { ...next, overdueSince: null };
    if (policy.enabled) {
      alerts.push({
        kind: "back_on_schedule",
        executionId: null,
        details: {
          lastStartedAt: facts.lastStartedAt?.toISOString() ?? null,
          overdueForMs: Math.max(0, facts.now.getTime() - state.overdueSince.getTime()),
        },
      });
    }
  }

  const owedNow = policy.enabled && state.alertOwed && !facts.snoozed && state.consecutiveFailures > 0;
  if (reminderDue(state, facts.now, policy) || owedNow) {
    next = { ...next, lastFailureAlertAt: facts.now, alertOwed: facts.snoozed };
    alerts.push({
      kind: "reminder",
      executionId: facts.latestFailure?.executionId ?? null,
      details: {
        consecutiveFailures: state.consecutiveFailures,
        failingSince: (state.failingSince ?? facts.now).toISOString(),
        errorMessage: errorText(facts.latestFailure?.errorMessage ?? null),
      },
    });
  }
  return { state: next, alerts };
}

/** Whether a failing job is owed a reminder now. */
export function reminderDue(state: AlertState, now: Date, policy: AlertPolicy): boolean {
  if (!policy.enabled || policy.remindEveryMs === null || state.consecutiveFailures === 0) return false;
  const last = state.lastFailureAlertAt ?? state.failingSince;
  return last !== null && now.getTime() - last.getTime() >= policy.remindEveryMs;
}

/** Whether two states differ (so the row needs writing). */
export function stateChanged(a: AlertState, b: AlertState): boolean {
  const time = (d: Date | null) => d?.getTime() ?? null;
  return a.consecutiveFailures !== b.consecutiveFailures || time(a.failingSince) !== time(b.failingSince) ||
    time(a.lastFailureAlertAt) !== time(b.lastFailureAlertAt) || a.durationWarning !== b.durationWarning ||
    time(a.overdueSince) !== time(b.overdueSince) || a.alertOwed !== b.alertOwed;
}

function durationWarning(
  durationMs: number | null,
  policy: AlertPolicy,
): { kind: "fast" | "slow"; limitMs: number } | null {
  if (durationMs === null) return null;
  if (policy.minDurationMs !== null && durationMs < policy.minDurationMs) {
    return { kind: "fast", limitMs: policy.minDurationMs };
  }
  if (policy.maxDurationMs !== null && durationMs > policy.maxDurationMs) {
    return { kind: "slow", limitMs: policy.maxDurationMs };
  }
  return null;
}

function runFacts(run: FinishedRun): AlertDetails {
  return {
    periodKey: run.periodKey,
    trigger: run.trigger,
    startedAt: run.startedAt.toISOString(),
    completedAt: run.completedAt.toISOString(),
    durationMs: run.durationMs,
  };
}

function errorText(message: string | null): string | null {
  return message === null ? null : headText(message, MAX_ALERT_ERROR_CHARS);
}
