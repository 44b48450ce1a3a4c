/**
 * What an admin can do to a job from the UI or the API: run it now, retry a
 * failed run, enable or disable it. Each writes its audit event in the same
 * transaction as the change; runs start in-process and are not awaited.
 */
import type { AlertHooks } from "../alerts/record.ts";
import { requireAdmin } from "../auth/middleware.ts";
import type { Sql } from "../db/mod.ts";
import type { EventBus } from "../events.ts";
import { HttpError } from "../http/errors.ts";
import { recordAuditEvent } from "../queries/audit.ts";
import { getExecution, insertManualExecution } from "../queries/executions.ts";
import { getJobDefinition, type JobDefinition, setJobEnabled } from "../queries/jobs.ts";
import type { Job } from "./define.ts";
import { publish, type Runner } from "./runner.ts";

export interface JobsRuntime {
  registry: Map<string, Job>;
  runner: Runner;
  bus: EventBus;
  instanceId: string;
  /** Where alerts raised by finished runs go; default: recorded, not sent. */
  alerts?: AlertHooks;
}

export interface TriggerDeps extends JobsRuntime {
  sql: Sql;
  now: () => Date;
}

export interface Actor {
  id: string;
  email: string;
  role: "admin" | "viewer";
  ip?: string | null;
}

/** The definition and in-process job a manual run needs, or the 4xx that says why not. */
async function runnableJob(
  deps: TriggerDeps,
  jobId: string,
): Promise<{ definition: JobDefinition; job: Job }> {
  const definition = await getJobDefinition(deps.sql, jobId);
  const job = deps.registry.get(jobId);
  if (!definition) throw new HttpError(404, `There is no job "${jobId.slice(0, 100)}".`);
  if (definition.retiredAt || !job) {
    throw new HttpError(400, `Job "${jobId}" is retired: it is no longer defined in code.`);
  }
  if (!definition.enabled) throw new HttpError(400, `Job "${jobId}" is disabled; enable it first.`);
  if (job.external) {
    throw new HttpError(
      400,
      `Job "${jobId}" runs outside Jobwatch and reports over the runs API; it cannot be run from here.`,
    );
  }
  return { definition, job };
}

async function startManualRun(
  deps: TriggerDeps,
  job: Job,
  actor: Actor,
  audit: { action: "job.triggered" | "job.retried"; retryOf: string | null },
): Promise<string> {
  const now = deps.now();
  const periodKey = `manual:${now.toISOString()}:${crypto.randomUUID().slice(0, 8)}`;
  const inserted = await deps.sql.begin(async (tx) => {
    if (job.concurrency === "skip") {
      // Serialises manual runs of one job across instances for this check.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${job.id}))`;
      const [running] = await tx`
        SELECT 1 FROM job_executions WHERE job_id = ${job.id} AND status = 'running' LIMIT 1
      `;
      if (running) {
        throw new HttpError(409, `${job.displayName} is already running; wait for that run to finish.`);
      }
    }
    const changed = await insertManualExecution(tx, {
      jobId: job.id,
      periodKey,
      startedAt: now,
      triggeredBy: actor.id,
      retryOf: audit.retryOf,
    });
    await recordAuditEvent(tx, {
      action: audit.action,
      occurredAt: now,
      actorId: actor.id,
      actorEmail: actor.email,
      targetType: "job",
      targetId: job.id,
      ip: actor.ip ?? null,
      metadata: { executionId: changed.executionId, ...(audit.retryOf ? { retryOf: audit.retryOf } : {}) },
    });
    return changed;
  });
  publish(deps.bus, deps.instanceId, inserted);
  deps.runner.start(job, { executionId: inserted.executionId, periodKey, trigger: "manual" });
  return inserted.executionId;
}

/** Runs a job now, as `actor`; returns the new execution's id at once. */
export async function triggerJob(deps: TriggerDeps, jobId: string, actor: Actor): Promise<string> {
  requireAdmin(actor);
  const { job } = await runnableJob(deps, jobId);
  return await startManualRun(deps, job, actor, { action: "job.triggered", retryOf: null });
}

/** Runs a failed execution's job again, linked to it by `retry_of`. */
export async function retryExecution(deps: TriggerDeps, executionId: string, actor: Actor): Promise<string> {
  requireAdmin(actor);
  const execution = await getExecution(deps.sql, executionId);
  if (!execution) throw new HttpError(404, `There is no execution "${executionId.slice(0, 100)}".`);
  if (execution.status !== "failed") {
    throw new HttpError(409, `Only failed runs can be retried; this one is ${execution.status}.`);
  }
  const { job } = await runnableJob(deps, execution.jobId);
  return await startManualRun(deps, job, actor, { action: "job.retried", retryOf: execution.id });
}

/** Enables or disables a job, audited. */
export async function setEnabled(
  deps: TriggerDeps,
  jobId: string,
  enabled: boolean,
  actor: Actor,
): Promise<JobDefinition> {
  requireAdmin(actor);
  return await deps.sql.begin(async (tx) => {
    const definition = await setJobEnabled(tx, jobId, enabled, deps.now());
    if (!definition) throw new HttpError(404, `There is no job "${jobId.slice(0, 100)}".`);
    await recordAuditEvent(tx, {
      action: enabled ? "job.enabled" : "job.disabled",
      occurredAt: deps.now(),
      actorId: actor.id,
      actorEmail: actor.email,
      targetType: "job",
      targetId: jobId,
      ip: actor.ip ?? null,
    });
    return definition;
  });
}
