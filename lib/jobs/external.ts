/**
 * The runs API behind routes/api/runs.ts: external jobs (a Lambda, a
 * Kubernetes CronJob, a script) authenticate with their job's bearer token
 * and report a run as start + complete/fail, or in one go after the fact.
 * Each change is one guarded statement, then is published on this
 * instance's bus (and so to other instances), exactly as for in-process runs.
 */
import type { Sql } from "../db/mod.ts";
import type { EventBus, ExecutionStatus } from "../events.ts";
import { HttpError } from "../http/errors.ts";
import { type AlertHooks, finishWithAlerts, UNROUTED } from "../alerts/record.ts";
import { completeExecution, type Execution, failExecution, getExecution } from "../queries/executions.ts";
import { findPeriodExecution, insertExternalReport, insertExternalStart } from "../queries/external_runs.ts";
import { getJobDefinition } from "../queries/jobs.ts";
import type { Job } from "./define.ts";
import { MAX_RESULT_BYTES, publish } from "./runner.ts";
import { authenticateJobToken } from "./tokens.ts";
import { headText, jsonWithoutNul, MAX_ERROR_CHARS, MAX_LOG_CHARS, tailText } from "../text.ts";

/**
 * The longest run a report may describe: job_executions.duration_ms is an
 * INTEGER, so durations must stay below 2^31 ms (24.8 days).
 */
export const MAX_DURATION_MS = 24 * 24 * 3600_000;
/** How far ahead of our clock a reported start may be (clock skew). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const UNAUTHORIZED =
  "Missing or invalid run token. Send Authorization: Bearer <token> with a live token of " +
  "this job; create one with: deno task token create <job-id>";

export interface ExternalRunDeps {
  sql: Sql;
  now: () => Date;
  registry: Map<string, Job>;
  bus: EventBus;
  instanceId: string;
  /** Where the alerts a finished run raises go; default: recorded, not sent. */
  alerts?: AlertHooks;
}

export interface StartRunInput {
  periodKey?: string;
  executionId?: string;
  metadata?: Record<string, unknown>;
}

export interface CompleteRunInput {
  result?: unknown;
  exitCode?: number;
  log?: string;
}

export interface FailRunInput {
  error: string;
  exitCode?: number;
  log?: string;
}

export interface ReportRunInput {
  status: "completed" | "failed";
  /** ISO 8601 with a zone. */
  startedAt?: string;
  durationMs?: number;
  result?: unknown;
  error?: string;
  exitCode?: number;
  log?: string;
  periodKey?: string;
  executionId?: string;
  metadata?: Record<string, unknown>;
}

/** The job a bearer token reports for, or a 401 that never says whether a job exists. */
async function tokenJob(deps: ExternalRunDeps, authorization: string | undefined): Promise<string> {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  const jobId = match ? await authenticateJobToken(deps.sql, match[1], deps.now()) : null;
  if (!jobId) throw new HttpError(401, UNAUTHORIZED);
  return jobId;
}

/** Checks that the Authorization header carries a live token of `jobId`; 401 otherwise. */
export async function authorizeJob(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  jobId: string,
): Promise<void> {
  if (await tokenJob(deps, authorization) !== jobId) throw new HttpError(401, UNAUTHORIZED);
}

/**
 * The execution `id`, once the Authorization header is shown to carry a
 * live token of its job: 401 for a bad token or another job's, 404 for an
 * unknown id.
 */
export async function authorizeExecution(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  id: string,
): Promise<Execution> {
  const jobId = await tokenJob(deps, authorization);
  const execution = await getExecution(deps.sql, id);
  if (!execution) {
    throw new HttpError(404, `There is no run "${id.slice(0, 100)}"; use the id that /start returned.`);
  }
  if (execution.jobId !== jobId) throw new HttpError(401, UNAUTHORIZED);
  return execution;
}

/** The job, if it may report runs now; otherwise the 400 that says why not. */
async function reportingJob(deps: ExternalRunDeps, jobId: string): Promise<Job> {
  const definition = await getJobDefinition(deps.sql, jobId);
  // A live token implies the job exists (job_tokens references it).
  if (!definition) throw new HttpError(401, UNAUTHORIZED);
  const job = deps.registry.get(jobId);
  if (definition.retiredAt || !job) {
    throw new HttpError(
      400,
      `Job "${jobId}" is retired: it is no longer defined in code, so its runs are not recorded. ` +
        "Declare it again, or stop the job that reports.",
    );
  }
  if (!definition.enabled) {
    throw new HttpError(400, `Job "${jobId}" is disabled, so its runs are not recorded; enable it first.`);
  }
  if (!job.external) {
    throw new HttpError(
      400,
      `Job "${jobId}" runs inside Jobwatch, which records its runs itself; only jobs declared with ` +
        "external: true report over the runs API.",
    );
  }
  return job;
}

/**
 * A run starting this close before its occurrence belongs to that occurrence:
 * the job's clock and ours may disagree by a little.
 */
export const CLOCK_SKEW_MS = 2 * 60_000;

/** The period of the job's latest occurrence at or before `at` (give or take the skew), or a unique key. */
function defaultPeriodKey(job: Job, at: Date): string {
  const occurrence = job.schedule.previous(new Date(at.getTime() + CLOCK_SKEW_MS + 1));
  if (occurrence) return job.schedule.periodKey(occurrence);
  return `external:${at.toISOString()}:${crypto.randomUUID().slice(0, 8)}`;
}

/** Refuses JSON over MAX_RESULT_BYTES with 413, before anything is written. */
function checkJsonSize(value: unknown, field: "result" | "metadata"): void {
  if (value === undefined) return;
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > MAX_RESULT_BYTES) {
    throw new HttpError(
      413,
      `${field} is ${Math.ceil(bytes / 1024)} KB of JSON; it is limited to ${MAX_RESULT_BYTES / 1024} KB. ` +
        "Report a summary (counts, ids, a link) and send the output's tail as log.",
    );
  }
}

function invalid(path: string, message: string): HttpError {
  return new HttpError(400, message, { issues: [{ path, message }] });
}

/**
 * Starts an external run of `jobId` as `running`. Repeating a start for the
 * same period returns the existing execution, with its current status and
 * `created: false`, so a retried invocation picks up its own run.
 */
export async function startRun(
  deps: ExternalRunDeps,
  jobId: string,
  input: StartRunInput,
): Promise<{ id: string; periodKey: string; status: ExecutionStatus; created: boolean }> {
  checkJsonSize(input.metadata, "metadata");
  const job = await reportingJob(deps, jobId);
  const now = deps.now();
  const periodKey = input.periodKey ?? defaultPeriodKey(job, now);
  const changed = await insertExternalStart(deps.sql, {
    jobId,
    periodKey,
    executionId: input.executionId ?? crypto.randomUUID(),
    startedAt: now,
    metadata: (jsonWithoutNul(input.metadata) as Record<string, unknown> | undefined) ?? null,
  });
  if (changed) {
    publish(deps.bus, deps.instanceId, changed);
    return { id: changed.executionId, periodKey, status: changed.status, created: true };
  }
  const existing = await findPeriodExecution(deps.sql, jobId, periodKey);
  if (!existing) throw new Error(`insert into ${jobId}/${periodKey} conflicted, but no execution holds it`);
  return { id: existing.id, periodKey, status: existing.status, created: false };
}

/** Completes a running external run. */
export async function completeRun(
  deps: ExternalRunDeps,
  execution: Execution,
  input: CompleteRunInput,
): Promise<{ id: string; status: "completed" }> {
  checkJsonSize(input.result, "result");
  requireExternal(execution);
  const now = deps.now();
  const changed = await finishWithAlerts(
    deps.sql,
    deps.alerts ?? UNROUTED,
    now,
    (tx) =>
      completeExecution(tx, execution.id, {
        completedAt: now,
        result: jsonWithoutNul(input.result) ?? null,
        exitCode: input.exitCode ?? null,
        log: tailText(input.log, MAX_LOG_CHARS),
      }),
  );
  if (!changed) throw await notRunning(deps, execution.id);
  publish(deps.bus, deps.instanceId, changed);
  return { id: execution.id, status: "completed" };
}

/** Fails a running external run. */
export async function failRun(
  deps: ExternalRunDeps,
  execution: Execution,
  input: FailRunInput,
): Promise<{ id: string; status: "failed" }> {
  requireExternal(execution);
  const now = deps.now();
  const changed = await finishWithAlerts(
    deps.sql,
    deps.alerts ?? UNROUTED,
    now,
    (tx) =>
      failExecution(tx, execution.id, {
        completedAt: now,
        errorMessage: headText(input.error, MAX_ERROR_CHARS),
        exitCode: input.exitCode ?? null,
        log: tailText(input.log, MAX_LOG_CHARS),
      }),
  );
  if (!changed) throw await notRunning(deps, execution.id);
  publish(deps.bus, deps.instanceId, changed);
  return { id: execution.id, status: "failed" };
}

/** In-process runs belong to the runner; a report must not race it. */
function requireExternal(execution: Execution): void {
  if (execution.trigger !== "external") {
    throw new HttpError(
      409,
      `Run ${execution.id} was started by Jobwatch itself (${execution.trigger}), which records its outcome; ` +
        "only runs started over the runs API can be completed or failed here.",
    );
  }
}

async function notRunning(deps: ExternalRunDeps, id: string): Promise<HttpError> {
  const current = await getExecution(deps.sql, id);
  const status = current?.status ?? "gone";
  const reason = current?.errorMessage ? ` (${current.errorMessage.slice(0, 200)})` : "";
  return new HttpError(
    409,
    `Run ${id} is no longer running: it is ${status}${reason}. A run is completed or failed once; ` +
      "to report another run in the same period, start it with its own periodKey.",
    { status },
  );
}

/**
 * Records a finished external run in one request, for jobs that report
 * after the fact. A second report for the same period is refused with 409
 * and the existing run's id.
 */
export async function reportRun(
  deps: ExternalRunDeps,
  jobId: string,
  input: ReportRunInput,
): Promise<{ id: string }> {
  checkJsonSize(input.result, "result");
  checkJsonSize(input.metadata, "metadata");
  const now = deps.now();
  const { startedAt, completedAt } = runTimes(input, now);
  const job = await reportingJob(deps, jobId);
  const periodKey = input.periodKey ?? defaultPeriodKey(job, startedAt);
  const changed = await finishWithAlerts(
    deps.sql,
    deps.alerts ?? UNROUTED,
    now,
    (tx) =>
      insertExternalReport(tx, {
        jobId,
        periodKey,
        executionId: input.executionId ?? crypto.randomUUID(),
        status: input.status,
        startedAt,
        completedAt,
        result: jsonWithoutNul(input.result) ?? null,
        errorMessage: input.status === "failed" ? headText(input.error!, MAX_ERROR_CHARS) : null,
        metadata: (jsonWithoutNul(input.metadata) as Record<string, unknown> | undefined) ?? null,
        exitCode: input.exitCode ?? null,
        log: tailText(input.log, MAX_LOG_CHARS),
      }),
  );
  if (!changed) {
    const existing = await findPeriodExecution(deps.sql, jobId, periodKey);
    throw new HttpError(
      409,
      `Job "${jobId}" already has a run for period ${periodKey}` +
        (existing ? ` (${existing.id}, ${existing.status})` : "") +
        ". Send another periodKey to record a second run in the same period.",
      existing ? { id: existing.id, status: existing.status } : {},
    );
  }
  publish(deps.bus, deps.instanceId, changed);
  return { id: changed.executionId };
}

/** When a one-shot report's run started and ended, from startedAt and durationMs as given. */
function runTimes(input: ReportRunInput, now: Date): { startedAt: Date; completedAt: Date } {
  const latest = now.getTime() + MAX_CLOCK_SKEW_MS;
  if (input.startedAt === undefined) {
    return { startedAt: new Date(now.getTime() - (input.durationMs ?? 0)), completedAt: now };
  }
  const startedAt = new Date(input.startedAt);
  if (startedAt.getTime() > latest) {
    throw invalid("startedAt", "startedAt is in the future; send when the run started (check the clock).");
  }
  if (input.durationMs === undefined) {
    if (now.getTime() - startedAt.getTime() > MAX_DURATION_MS) {
      throw invalid(
        "startedAt",
        `startedAt is more than ${MAX_DURATION_MS / 86_400_000} days ago; send durationMs with it.`,
      );
    }
    return { startedAt, completedAt: new Date(Math.max(startedAt.getTime(), now.getTime())) };
  }
  const completedAt = new Date(startedAt.getTime() + input.durationMs);
  if (completedAt.getTime() > latest) {
    throw invalid("durationMs", "startedAt + durationMs is in the future; send the run's actual duration.");
  }
  return { startedAt, completedAt };
}
