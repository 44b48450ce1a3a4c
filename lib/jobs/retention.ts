/**
 * `jobwatch-retention`: the built-in nightly job that deletes run and alert
 * history older than JOB_RETENTION_DAYS, in small batches with a pause between
 * them so a first prune of a million rows does not starve the dashboard.
 */
import type { Sql } from "../db/mod.ts";
import {
  deleteExpiredAlerts,
  deleteExpiredExecutions,
  type RetentionPosition,
} from "../queries/retention.ts";
import { defineJob, type Job, type JobLogger } from "./define.ts";

export const RETENTION_JOB_ID = "jobwatch-retention";
export const RETENTION_BATCH_SIZE = 1000;
export const RETENTION_PAUSE_MS = 20;

const DAY_MS = 86_400_000;

export interface PruneOptions {
  now: Date;
  /** Whole days of history to keep, at least 1 (0, "keep forever", is for the job to skip). */
  retentionDays: number;
  /** Rows per DELETE statement; default 1000. */
  batchSize?: number;
  /** Pause after each full batch, letting other queries in; default 20 ms. */
  pauseMs?: number;
  /** Checked before each batch; once aborted the prune logs its progress and throws the reason. */
  signal?: AbortSignal;
  log?: JobLogger;
}

export interface PruneResult {
  /** ISO instant: history that started (alerts: was raised) before it was eligible. */
  cutoff: string;
  deletedExecutions: number;
  deletedAlerts: number;
  /** DELETE statements that removed at least one row, alerts and executions together. */
  batches: number;
}

const quiet: JobLogger = { info() {}, warn() {}, error() {} };

/**
 * Deletes alerts, then executions, older than `retentionDays` before `now`,
 * `batchSize` rows per statement (lib/queries/retention.ts says what is kept).
 * Alerts go first so the executions' ON DELETE SET NULL finds fewer alerts to
 * update. Each batch is its own transaction on the pool, hence `Sql` and not a
 * transaction.
 */
export async function pruneExecutions(sql: Sql, options: PruneOptions): Promise<PruneResult> {
  const { now, retentionDays, batchSize = RETENTION_BATCH_SIZE, pauseMs = RETENTION_PAUSE_MS } = options;
  const signal = options.signal ?? new AbortController().signal;
  const log = options.log ?? quiet;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(`retentionDays must be a whole number of days from 1, got ${retentionDays}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a whole number from 1, got ${batchSize}`);
  }
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const progress = { deletedExecutions: 0, deletedAlerts: 0, batches: 0 };

  const drain = async (
    counter: "deletedAlerts" | "deletedExecutions",
    deleteBatch: () => Promise<number>,
  ): Promise<void> => {
    while (true) {
      if (signal.aborted) {
        log.warn("stopped before all expired history was deleted", progress);
        signal.throwIfAborted();
      }
      const deleted = await deleteBatch();
      progress[counter] += deleted;
      if (deleted > 0) progress.batches++;
      if (deleted < batchSize) return;
      await pause(pauseMs, signal);
    }
  };
  await drain("deletedAlerts", () => deleteExpiredAlerts(sql, { cutoff, limit: batchSize }));
  let after: RetentionPosition | null = null;
  await drain("deletedExecutions", async () => {
    const { count, last } = await deleteExpiredExecutions(sql, { cutoff, limit: batchSize, after });
    after = last ?? after;
    return count;
  });

  const { deletedExecutions, deletedAlerts } = progress;
  log.info(
    `deleted ${deletedExecutions} execution${deletedExecutions === 1 ? "" : "s"} and ${deletedAlerts} ` +
      `alert${deletedAlerts === 1 ? "" : "s"} older than ${cutoff.toISOString()}`,
    progress,
  );
  return { cutoff: cutoff.toISOString(), ...progress };
}

/** Waits `ms`, or less if `signal` aborts first (the caller checks it next). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The retention job for JOB_RETENTION_DAYS = `retentionDays`. It is declared
 * even at 0: its runs then return `{ skipped: "JOB_RETENTION_DAYS=0" }` and
 * touch nothing, so the dashboard says why history is not pruned, and turning
 * retention off and on again does not retire and revive the job.
 */
export function retentionJob(retentionDays: number, now: () => Date = () => new Date()): Job {
  return defineJob({
    id: RETENTION_JOB_ID,
    displayName: "History Retention",
    description: retentionDays === 0
      ? "Off (JOB_RETENTION_DAYS=0): run and alert history is kept forever."
      : `Deletes runs and alerts older than ${retentionDays} days (JOB_RETENTION_DAYS), ` +
        "keeping each job's latest run, latest success and latest failure.",
    schedule: "cron(15 3 * * ? *)",
    timezone: "UTC",
    // A first prune of years of history can take a while; an interrupted one resumes the next night.
    timeoutSeconds: 3600,
    critical: false,
    run: (ctx) =>
      retentionDays === 0
        ? { skipped: "JOB_RETENTION_DAYS=0" }
        : pruneExecutions(ctx.sql, { now: now(), retentionDays, signal: ctx.signal, log: ctx.log }),
  });
}
