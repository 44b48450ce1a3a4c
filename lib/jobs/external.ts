/**
 * The runs API behind routes/api/runs.ts: external jobs (a Lambda, a
 * Kubernetes CronJob, a script) authenticate with their job's bearer token
 * and report a run as start + complete/fail, or in one go after the fact.
 * Each change is one guarded statement that also checks the token, then is
 * published on this instance's bus (and so to other instances), exactly as
 * for in-process runs. Only a refused request costs more queries: the ones
 * that find out what to tell the caller.
 */
import type { Queryable, Sql } from "../db/mod.ts";
import type { EventBus, ExecutionStatus } from "../events.ts";
import { HttpError } from "../http/errors.ts";
import { type AlertHooks, finishWithAlerts, UNROUTED } from "../alerts/record.ts";
import {
  type Changed,
  completeExecution,
  type Execution,
  failExecution,
  getExecution,
  type ReporterGuard,
} from "../queries/executions.ts";
import {
  findPeriodExecution,
  insertExternalReport,
  insertExternalStart,
  type Reporter,
  type ReporterInsert,
} from "../queries/external_runs.ts";
import type { Job } from "./define.ts";
import { MAX_RESULT_BYTES, publish } from "./runner.ts";
import { useJobToken } from "../queries/tokens.ts";
import { hashJobToken, TOKEN_PATTERN } from "./tokens.ts";
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

/** The SHA-256 of the bearer token in an Authorization header; null when there is none or it is not one of ours. */
async function bearerTokenHash(authorization: string | undefined): Promise<string | null> {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  return match && TOKEN_PATTERN.test(match[1]) ? await hashJobToken(match[1]) : null;
}

const unauthorized = () => new HttpError(401, UNAUTHORIZED);

/** The job a bearer token reports for, or a 401 that never says whether a job exists. */
async function tokenJob(deps: ExternalRunDeps, authorization: string | undefined): Promise<string> {
  const tokenHash = await bearerTokenHash(authorization);
  const jobId = tokenHash ? await useJobToken(deps.sql, tokenHash, deps.now()) : null;
  if (!jobId) throw unauthorized();
  return jobId;
}

/** Checks that the Authorization header carries a live token of `jobId`; 401 otherwise. */
export async function authorizeJob(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  jobId: string,
): Promise<void> {
  if (await tokenJob(deps, authorization) !== jobId) throw unauthorized();
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
  if (execution.jobId !== jobId) throw unauthorized();
  return execution;
}

/**
 * Runs `check` (a validation of the request). Should it refuse the request,
 * `authorize` runs first, so a caller without a valid token learns only
 * that (401), as if the token had been checked first. The token is checked
 * by the statement that writes, so a valid request costs no extra query.
 */
export async function checkedAfterAuthorization<T>(
  check: () => T | Promise<T>,
  authorize: () => Promise<unknown>,
): Promise<T> {
  try {
    return await check();
  } catch (error) {
    await authorize();
    throw error;
  }
}

/** Why `jobId`'s runs are not recorded (a 400), or null when they may be. */
function refusal(
  jobId: string,
  definition: { enabled: boolean; retired: boolean },
  job: Job | undefined,
): HttpError | null {
  if (definition.retired || !job) {
    return new HttpError(
      400,
      `Job "${jobId}" is retired: it is no longer defined in code, so its runs are not recorded. ` +
        "Declare it again, or stop the job that reports.",
    );
  }
  if (!definition.enabled) {
    return new HttpError(400, `Job "${jobId}" is disabled, so its runs are not recorded; enable it first.`);
  }
  if (!job.external) {
    return new HttpError(
      400,
      `Job "${jobId}" runs inside Jobwatch, which records its runs itself; only jobs declared with ` +
        "external: true report over the runs API.",
    );
  }
  return null;
}

/**
 * Who inserts a run for `jobId`, from the Authorization header: 401 at
 * once for a header without one of our tokens; the database checks the rest.
 */
async function reporterFor(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  jobId: string,
): Promise<Reporter & { job: Job | undefined }> {
  const tokenHash = await bearerTokenHash(authorization);
  if (!tokenHash) throw unauthorized();
  const job = deps.registry.get(jobId);
  return { tokenHash, jobId, job, recordable: job?.external === true, now: deps.now() };
}

/** Throws the 401 or 400 that explains why an insert on the reporter's behalf inserted nothing, if it was refused. */
function checkInsertAllowed(reporter: Reporter & { job: Job | undefined }, attempt: ReporterInsert): void {
  if (attempt.tokenJobId !== reporter.jobId || !attempt.definition) throw unauthorized();
  const refused = refusal(reporter.jobId, attempt.definition, reporter.job);
  if (refused) throw refused;
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
 * Starts an external run of `jobId` as `running`, for the bearer of one of
 * its tokens. Repeating a start for the same period returns the existing
 * execution, with its current status and `created: false`, so a retried
 * invocation picks up its own run.
 */
export async function startRun(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  jobId: string,
  input: StartRunInput,
): Promise<{ id: string; periodKey: string; status: ExecutionStatus; created: boolean }> {
  await checkedAfterAuthorization(
    () => checkJsonSize(input.metadata, "metadata"),
    () => authorizeJob(deps, authorization, jobId),
  );
  const reporter = await reporterFor(deps, authorization, jobId);
  const periodKey = input.periodKey ?? (reporter.job ? defaultPeriodKey(reporter.job, reporter.now) : "");
  const attempt = await insertExternalStart(deps.sql, reporter, {
    periodKey,
    executionId: input.executionId ?? crypto.randomUUID(),
    metadata: (jsonWithoutNul(input.metadata) as Record<string, unknown> | undefined) ?? null,
  });
  if (attempt.inserted) {
    publish(deps.bus, deps.instanceId, attempt.inserted);
    return { id: attempt.inserted.executionId, periodKey, status: attempt.inserted.status, created: true };
  }
  checkInsertAllowed(reporter, attempt);
  const existing = await findPeriodExecution(deps.sql, jobId, periodKey);
  if (!existing) throw new Error(`insert into ${jobId}/${periodKey} conflicted, but no execution holds it`);
  return { id: existing.id, periodKey, status: existing.status, created: false };
}

/** How a run ends over the runs API: the statement that finishes it, guarded by the reporter's token. */
type Finish = (tx: Queryable, guard: ReporterGuard) => Promise<Changed | null>;

/**
 * Finishes the running external run `id` for the bearer of a token of its
 * job, raising its alerts; when nothing changed, throws what was wrong
 * (401, 404, or 409 for a run not started over the API or not running).
 */
async function finishRun(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  id: string,
  finish: Finish,
): Promise<Changed> {
  const tokenHash = await bearerTokenHash(authorization);
  if (!tokenHash) throw unauthorized();
  const now = deps.now();
  const changed = await finishWithAlerts(
    deps.sql,
    deps.alerts ?? UNROUTED,
    now,
    (tx) => finish(tx, { tokenHash, now }),
  );
  if (!changed) {
    const execution = await authorizeExecution(deps, authorization, id);
    requireExternal(execution);
    throw await notRunning(deps, execution.id);
  }
  publish(deps.bus, deps.instanceId, changed);
  return changed;
}

/** Completes a running external run. */
export async function completeRun(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  id: string,
  input: CompleteRunInput,
): Promise<{ id: string; status: "completed" }> {
  await checkedAfterAuthorization(
    () => checkJsonSize(input.result, "result"),
    () => authorizeExecution(deps, authorization, id),
  );
  const changed = await finishRun(deps, authorization, id, (tx, guard) =>
    completeExecution(tx, id, {
      completedAt: guard.now,
      result: jsonWithoutNul(input.result) ?? null,
      exitCode: input.exitCode ?? null,
      log: tailText(input.log, MAX_LOG_CHARS),
    }, guard));
  return { id: changed.executionId, status: "completed" };
}

/** Fails a running external run. */
export async function failRun(
  deps: ExternalRunDeps,
  authorization: string | undefined,
  id: string,
  input: FailRunInput,
): Promise<{ id: string; status: "failed" }> {
  const changed = await finishRun(deps, authorization, id, (tx, guard) =>
    failExecution(tx, id, {
      completedAt: guard.now,
      errorMessage: headText(input.error, MAX_ERROR_CHARS),
      exitCode: input.exitCode ?? null,
      log: tailText(input.log, MAX_LOG_CHARS),
    }, guard));
  return { id: changed.executionId, status: "failed" };
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
  authorization: string | undefined,
  jobId: string,
  input: ReportRunInput,
): Promise<{ id: string }> {
  const reporter = await reporterFor(deps, authorization, jobId);
  const { startedAt, completedAt } = await checkedAfterAuthorization(() => {
    checkJsonSize(input.result, "result");
    checkJsonSize(input.metadata, "metadata");
    return runTimes(input, reporter.now);
  }, () => authorizeJob(deps, authorization, jobId));
  const periodKey = input.periodKey ?? (reporter.job ? defaultPeriodKey(reporter.job, startedAt) : "");
  let attempt: ReporterInsert | undefined;
  await finishWithAlerts(deps.sql, deps.alerts ?? UNROUTED, reporter.now, async (tx) => {
    attempt = await insertExternalReport(tx, reporter, {
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
    });
    return attempt.inserted;
  });
  if (attempt!.inserted) {
    publish(deps.bus, deps.instanceId, attempt!.inserted);
    return { id: attempt!.inserted.executionId };
  }
  checkInsertAllowed(reporter, attempt!);
  const existing = await findPeriodExecution(deps.sql, jobId, periodKey);
  throw new HttpError(
    409,
    `Job "${jobId}" already has a run for period ${periodKey}` +
      (existing ? ` (${existing.id}, ${existing.status})` : "") +
      ". Send another periodKey to record a second run in the same period.",
    existing ? { id: existing.id, status: existing.status } : {},
  );
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
