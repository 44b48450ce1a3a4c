import assert from "node:assert/strict";
import {
  type AlertPolicy,
  type AlertState,
  type ClockFacts,
  decideOnClock,
  decideOnRun,
  DEFAULT_ALERT_POLICY,
  type FinishedRun,
  INITIAL_ALERT_STATE,
  readAlertPolicy,
} from "../lib/alerts/policy.ts";
import type { AlertDetails, AlertKind } from "../lib/alerts/types.ts";
import { defineJob, JobDefinitionError, parseDurationMs } from "../lib/jobs/define.ts";

const T0 = Date.parse("2027-03-01T09:00:00Z");
const HOUR = 3_600_000;

function run(index: number, status: "completed" | "failed", durationMs = 1000): FinishedRun {
  const startedAt = new Date(T0 + index * HOUR);
  return {
    executionId: `run-${index}`,
    status,
    periodKey: `p${index}`,
    trigger: "scheduled",
    startedAt,
    completedAt: new Date(startedAt.getTime() + durationMs),
    durationMs,
    errorMessage: status === "failed" ? `boom ${index}` : null,
  };
}

/** Feeds outcomes through the policy; returns, per run, the kinds of alert it raised. */
function replay(outcomes: ("S" | "F")[], policy: AlertPolicy = DEFAULT_ALERT_POLICY) {
  let state: AlertState = INITIAL_ALERT_STATE;
  const raised: AlertKind[][] = [];
  const details: AlertDetails[] = [];
  outcomes.forEach((outcome, index) => {
    const decision = decideOnRun(state, run(index, outcome === "S" ? "completed" : "failed"), policy);
    state = decision.state;
    raised.push(decision.alerts.map((a) => a.kind));
    details.push(...decision.alerts.map((a) => a.details));
  });
  return { raised, state, details };
}

Deno.test("success, six failures, success: alerts on the 1st, 3rd and 6th failure, then one recovery", () => {
  const { raised, details } = replay(["S", "F", "F", "F", "F", "F", "F", "S"]);
  assert.deepEqual(raised, [[], ["failure"], [], ["failure"], [], [], ["failure"], ["recovery"]]);
  assert.deepEqual(details.map((d) => d.consecutiveFailures), [1, 3, 6, 6]);
  // Down from the first failure's end (index 1, 09:00+1h+1s) to the recovery's end (index 7).
  assert.equal(details[3].downForMs, 6 * HOUR);
});

Deno.test("a job that never succeeded alerts on its first failure", () => {
  assert.deepEqual(replay(["F", "F"]).raised, [["failure"], []]);
});

Deno.test("every: 1 alerts on each failure; alert: false raises nothing but keeps counting", () => {
  assert.deepEqual(replay(["F", "F", "F"], { ...DEFAULT_ALERT_POLICY, every: 1 }).raised, [
    ["failure"],
    ["failure"],
    ["failure"],
  ]);
  const off = replay(["F", "F", "S"], { ...DEFAULT_ALERT_POLICY, enabled: false });
  assert.deepEqual(off.raised, [[], [], []]);
  assert.equal(off.state.consecutiveFailures, 0);
});

Deno.test("a success without a preceding failure raises no recovery", () => {
  assert.deepEqual(replay(["S", "S"]).raised, [[], []]);
});

Deno.test("the failure alert carries the error, cut to 4 KB", () => {
  const long = { ...run(0, "failed"), errorMessage: "x".repeat(10_000) };
  const { alerts } = decideOnRun(INITIAL_ALERT_STATE, long, DEFAULT_ALERT_POLICY);
  assert.equal(alerts[0].details.errorMessage?.length, 4096);
  assert.equal(alerts[0].executionId, "run-0");
});

Deno.test("a run outside min/max duration warns once per excursion", () => {
  const policy = { ...DEFAULT_ALERT_POLICY, minDurationMs: 500, maxDurationMs: 10_000 };
  let state = INITIAL_ALERT_STATE;
  const kinds: string[] = [];
  for (const [index, ms] of [100, 100, 2000, 20_000, 30_000, 2000, 50].entries()) {
    const decision = decideOnRun(state, run(index, "completed", ms), policy);
    state = decision.state;
    kinds.push(decision.alerts.map((a) => `${a.kind}:${a.details.warning}:${a.details.limitMs}`).join());
  }
  assert.deepEqual(kinds, ["warning:fast:500", "", "", "warning:slow:10000", "", "", "warning:fast:500"]);
});

const clock = (now: number, overrides: Partial<ClockFacts> = {}): ClockFacts => ({
  now: new Date(now),
  snoozed: false,
  late: false,
  expectedBy: null,
  lastStartedAt: null,
  latestFailure: null,
  ...overrides,
});

Deno.test("overdue alerts once while late, and back on schedule once when it starts again", () => {
  const late = clock(T0, { late: true, expectedBy: new Date(T0 - 60_000) });
  const first = decideOnClock(INITIAL_ALERT_STATE, late, DEFAULT_ALERT_POLICY);
  assert.deepEqual(first.alerts.map((a) => a.kind), ["overdue"]);
  assert.equal(first.state.overdueSince?.getTime(), T0);
  const still = decideOnClock(first.state, clock(T0 + HOUR, { late: true }), DEFAULT_ALERT_POLICY);
  assert.deepEqual(still.alerts, []);
  const back = decideOnClock(still.state, clock(T0 + 2 * HOUR), DEFAULT_ALERT_POLICY);
  assert.deepEqual(back.alerts.map((a) => [a.kind, a.details.overdueForMs]), [[
    "back_on_schedule",
    2 * HOUR,
  ]]);
  assert.equal(back.state.overdueSince, null);
});

Deno.test("remindEvery re-sends while failing, counted from the last alert", () => {
  const policy = { ...DEFAULT_ALERT_POLICY, remindEveryMs: 24 * HOUR };
  const failing = decideOnRun(INITIAL_ALERT_STATE, run(0, "failed"), policy).state;
  const failedAt = failing.lastFailureAlertAt!.getTime();
  assert.deepEqual(decideOnClock(failing, clock(failedAt + 23 * HOUR), policy).alerts, []);
  const reminded = decideOnClock(
    failing,
    clock(failedAt + 24 * HOUR, { latestFailure: { executionId: "run-0", errorMessage: "boom" } }),
    policy,
  );
  assert.deepEqual(reminded.alerts.map((a) => [a.kind, a.executionId, a.details.errorMessage]), [
    ["reminder", "run-0", "boom"],
  ]);
  assert.deepEqual(decideOnClock(reminded.state, clock(failedAt + 25 * HOUR), policy).alerts, []);
  // No reminders without remindEvery, nor once the job recovered.
  assert.deepEqual(decideOnClock(failing, clock(failedAt + 100 * HOUR), DEFAULT_ALERT_POLICY).alerts, []);
  const recovered = decideOnRun(failing, run(1, "completed"), policy).state;
  assert.deepEqual(decideOnClock(recovered, clock(failedAt + 100 * HOUR), policy).alerts, []);
});

Deno.test("defineJob reads alert options and refuses bad ones with the field named", () => {
  const base = { id: "digest", displayName: "Digest", schedule: "0 9 * * *", run: () => {} };
  assert.deepEqual(defineJob(base).alertPolicy, DEFAULT_ALERT_POLICY);
  const tuned = defineJob({
    ...base,
    alert: { every: 1, remindEvery: "24h" },
    minDurationMs: 100,
    maxDurationMs: 60_000,
  });
  assert.deepEqual(tuned.alertPolicy, {
    enabled: true,
    every: 1,
    remindEveryMs: 24 * HOUR,
    minDurationMs: 100,
    maxDurationMs: 60_000,
  });
  assert.equal(defineJob({ ...base, alert: false }).alertPolicy.enabled, false);
  const refused = (options: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => defineJob({ ...base, ...options }),
      (e: Error) => e instanceof JobDefinitionError && message.test(e.message),
    );
  refused({ alert: { every: 0 } }, /alert\.every: must be a whole number/);
  refused({ alert: { remindEvery: "soon" } }, /alert\.remindEvery/);
  refused({ alert: { remindEvery: "10s" } }, /at least a minute/);
  refused({ minDurationMs: -1 }, /minDurationMs: must be a positive/);
  refused({ minDurationMs: 500, maxDurationMs: 100 }, /minDurationMs: must be less than maxDurationMs/);
  assert.equal(parseDurationMs("30m"), 30 * 60_000);
  assert.equal(parseDurationMs("2d"), 48 * HOUR);
  assert.equal(parseDurationMs(""), null);
});

Deno.test("a stored policy that cannot be read falls back to the default", () => {
  assert.deepEqual(readAlertPolicy(null), DEFAULT_ALERT_POLICY);
  assert.deepEqual(readAlertPolicy({ every: "3", remindEveryMs: -5 }), DEFAULT_ALERT_POLICY);
  assert.equal(readAlertPolicy({ enabled: false }).enabled, false);
});

Deno.test("a failure alert suppressed by a snooze is owed: the first chance after the snooze alerts", () => {
  const policy = DEFAULT_ALERT_POLICY;
  const snoozedFailure = decideOnRun(INITIAL_ALERT_STATE, run(0, "failed"), policy, true);
  assert.deepEqual(
    snoozedFailure.alerts.map((a) => a.kind),
    ["failure"],
    "raised (and recorded as suppressed)",
  );
  assert.equal(snoozedFailure.state.alertOwed, true);
  // Still snoozed: the 2nd failure stays quiet and the debt stays.
  const second = decideOnRun(snoozedFailure.state, run(1, "failed"), policy, true);
  assert.deepEqual(second.alerts, []);
  assert.equal(second.state.alertOwed, true);
  // The snooze is over: the next failure alerts, though it is only the 2nd in a row.
  const afterRun = decideOnRun(snoozedFailure.state, run(1, "failed"), policy, false);
  assert.deepEqual(afterRun.alerts.map((a) => [a.kind, a.details.consecutiveFailures]), [["failure", 2]]);
  assert.equal(afterRun.state.alertOwed, false);
  // Or, with no run coming, the next tick after the snooze reminds.
  const tick = decideOnClock(second.state, clock(T0 + 5 * HOUR), policy);
  assert.deepEqual(tick.alerts.map((a) => [a.kind, a.details.consecutiveFailures]), [["reminder", 2]]);
  assert.equal(tick.state.alertOwed, false);
  assert.deepEqual(decideOnClock(second.state, clock(T0 + 5 * HOUR, { snoozed: true }), policy).alerts, []);
  // A recovery settles the debt.
  assert.equal(decideOnRun(second.state, run(2, "completed"), policy, true).state.alertOwed, false);
});
