/**
 * `defineJob`: a job declared in code. Definitions are validated when they
 * are made, so a bad schedule or zone stops start-up with a message naming
 * the job and the field.
 */
import type { Sql } from "../db/mod.ts";
import type { DeclaredJob } from "../queries/jobs.ts";
import { type AlertPolicy, DEFAULT_ALERT_POLICY } from "../alerts/policy.ts";
import { parseSchedule, type Schedule, ScheduleError } from "./schedule.ts";

export type Trigger = "scheduled" | "manual" | "external";

export interface JobLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface JobContext {
  /** Aborted when the run times out or the process shuts down. */
  signal: AbortSignal;
  executionId: string;
  periodKey: string;
  trigger: Trigger;
  sql: Sql;
  log: JobLogger;
}

interface CommonOptions {
  /** Lower-case letters, digits and dashes, e.g. `weekly-digest`. Never change it: history is keyed by it. */
  id: string;
  displayName: string;
  description?: string;
  /** `cron(…)`, `rate(…)` or five-field cron; see lib/jobs/schedule.ts. */
  schedule: string;
  /** IANA zone the schedule is read in; default UTC. */
  timezone?: string;
  /** A run still going after this long is failed; default 300. */
  timeoutSeconds?: number;
  /** Whether the job starts enabled. Afterwards the admin's toggle decides. Default true. */
  enabled?: boolean;
  /** `skip` (default): an occurrence due while the previous run is still running is recorded as skipped. */
  concurrency?: "skip" | "allow";
  /** Only critical jobs make the health check fail. Default false. */
  critical?: boolean;
  /**
   * How old the last success may be before the health check calls the job late (default: derived from
   * the schedule); the overdue alert also waits at least this long after the last start.
   */
  maxAgeHours?: number;
  /**
   * Failure alerts (lib/alerts/policy.ts). Default: on the 1st failure, then every 3rd in a row.
   * `false` turns them off; `every: 1` alerts on every failure; `remindEvery` ("24h", "30m", "2d",
   * or milliseconds) re-sends a reminder while the job stays failing.
   */
  alert?: false | { every?: number; remindEvery?: string | number };
  /** A completed run faster than this raises a warning ("finished suspiciously fast"). */
  minDurationMs?: number;
  /** A completed run slower than this raises a warning. */
  maxDurationMs?: number;
}

export interface InProcessJobOptions extends CommonOptions {
  external?: false;
  run(context: JobContext): unknown | Promise<unknown>;
}

export interface ExternalJobOptions extends CommonOptions {
  /** Runs elsewhere (a Lambda, a CronJob, a script) and reports over the runs API. */
  external: true;
}

export interface Job {
  id: string;
  displayName: string;
  description: string | null;
  schedule: Schedule;
  timezone: string;
  timeoutSeconds: number;
  enabled: boolean;
  concurrency: "skip" | "allow";
  critical: boolean;
  maxAgeHours: number | null;
  external: boolean;
  alertPolicy: AlertPolicy;
  run: ((context: JobContext) => unknown | Promise<unknown>) | null;
}

export class JobDefinitionError extends Error {
  override name = "JobDefinitionError";
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_TIMEOUT_SECONDS = 24 * 3600;

/** Validates a job declared in code; throws `JobDefinitionError` naming the job and the field. */
export function defineJob(options: InProcessJobOptions | ExternalJobOptions): Job {
  const id = String(options.id ?? "");
  const fail = (field: string, message: string): never => {
    throw new JobDefinitionError(`job "${id}": ${field}: ${message}`);
  };
  if (!ID_PATTERN.test(id)) {
    fail("id", "use 1-63 lower-case letters, digits and dashes, starting with a letter or digit");
  }
  if (typeof options.displayName !== "string" || options.displayName.trim() === "") {
    fail("displayName", "must be a non-empty string");
  }
  const timezone = options.timezone ?? "UTC";
  let schedule: Schedule;
  try {
    schedule = parseSchedule(options.schedule, timezone);
  } catch (error) {
    if (error instanceof ScheduleError) fail("schedule", error.message);
    throw error;
  }
  const timeoutSeconds = options.timeoutSeconds ?? 300;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    fail("timeoutSeconds", `must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}`);
  }
  const concurrency = options.concurrency ?? "skip";
  if (concurrency !== "skip" && concurrency !== "allow") fail("concurrency", 'must be "skip" or "allow"');
  const maxAgeHours = options.maxAgeHours ?? null;
  if (
    maxAgeHours !== null &&
    !(typeof maxAgeHours === "number" && maxAgeHours > 0 && Number.isFinite(maxAgeHours))
  ) {
    fail("maxAgeHours", "must be a positive number of hours");
  }
  const alertPolicy = readAlertOptions(options, fail);
  const external = options.external === true;
  const run = external ? null : (options as InProcessJobOptions).run;
  if (!external && typeof run !== "function") {
    fail("run", "an in-process job needs a run(context) function (or set external: true)");
  }
  return {
    id,
    displayName: options.displayName.trim(),
    description: options.description?.trim() || null,
    schedule: schedule!,
    timezone,
    timeoutSeconds,
    enabled: options.enabled ?? true,
    concurrency,
    critical: options.critical ?? false,
    maxAgeHours,
    external,
    alertPolicy,
    run,
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "24h", "30m", "2d", "90s" or a number of milliseconds; null when it is none of these. */
export function parseDurationMs(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(String(value));
  const ms = match ? Number(match[1]) * DURATION_UNITS[match[2]] : NaN;
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

function readAlertOptions(
  options: CommonOptions,
  fail: (field: string, message: string) => never,
): AlertPolicy {
  const positiveMs = (field: "minDurationMs" | "maxDurationMs") => {
    const value = options[field];
    if (value === undefined) return null;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      fail(field, "must be a positive number of milliseconds");
    }
    return value;
  };
  const minDurationMs = positiveMs("minDurationMs");
  const maxDurationMs = positiveMs("maxDurationMs");
  if (minDurationMs !== null && maxDurationMs !== null && minDurationMs >= maxDurationMs) {
    fail("minDurationMs", "must be less than maxDurationMs");
  }
  const alert = options.alert;
  if (alert === false) return { ...DEFAULT_ALERT_POLICY, enabled: false, minDurationMs, maxDurationMs };
  if (alert !== undefined && (alert === null || typeof alert !== "object")) {
    fail("alert", 'must be false or an object such as { every: 1, remindEvery: "24h" }');
  }
  const every = alert?.every ?? DEFAULT_ALERT_POLICY.every;
  if (!Number.isInteger(every) || every < 1 || every > 1000) {
    fail("alert.every", "must be a whole number from 1 to 1000");
  }
  let remindEveryMs: number | null = null;
  if (alert?.remindEvery !== undefined) {
    remindEveryMs = parseDurationMs(alert.remindEvery);
    if (remindEveryMs === null || remindEveryMs < 60_000) {
      fail("alert.remindEvery", 'must be a duration of at least a minute, such as "24h", "30m" or "2d"');
    }
  }
  return { enabled: true, every, remindEveryMs, minDurationMs, maxDurationMs };
}

/** The jobs of this deployment by id; refuses two jobs with one id. */
export function createRegistry(jobs: Job[]): Map<string, Job> {
  const registry = new Map<string, Job>();
  for (const job of jobs) {
    if (registry.has(job.id)) throw new JobDefinitionError(`job "${job.id}": id: defined twice`);
    registry.set(job.id, job);
  }
  return registry;
}

/** What job_definitions stores of a job declared in code. */
export function toDeclaredJob(job: Job): DeclaredJob {
  return {
    id: job.id,
    displayName: job.displayName,
    description: job.description,
    schedule: job.schedule.expression,
    timezone: job.timezone,
    timeoutSeconds: job.timeoutSeconds,
    enabled: job.enabled,
    external: job.external,
    concurrency: job.concurrency,
    critical: job.critical,
    maxAgeHours: job.maxAgeHours,
    alertPolicy: job.alertPolicy,
  };
}
