/**
 * Answers health and metrics from the database, cheaply and boundedly:
 * each answer is cached for a few seconds and shared by every request that
 * arrives while it loads (a burst of monitors costs one query), and a
 * database that is slow or gone yields "unavailable" within the timeout
 * instead of a hanging request.
 */
import type { Sql } from "../db/mod.ts";
import type { Logger } from "../http/context.ts";
import { isMigrated } from "../db/migrate.ts";
import { parseSchedule, type Schedule } from "../jobs/schedule.ts";
import {
  countAlertDeliveries,
  type ExecutionStatsRow,
  getDurationBoundsMs,
  getSchedulerLagSeconds,
  type JobHealthRow,
  listExecutionStats,
  listJobHealthRows,
} from "../queries/health.ts";
import { derivedMaxAgeMs, HOUR_MS, type JobHealth, jobHealth } from "./state.ts";

/** How long an answer is reused. */
export const HEALTH_CACHE_MS = 5_000;
/** How long the database gets before the answer is "unavailable" (monitors want an answer within 2 s). */
export const HEALTH_TIMEOUT_MS = 1_500;
/** How long a schedule's derived max age is kept (plus up to an hour, so expiries spread). */
const SCHEDULE_CACHE_MS = 24 * HOUR_MS;

export interface JobHealthEntry extends JobHealth {
  /** Only critical jobs decide the overall status. */
  critical: boolean;
}

export interface HealthReport {
  healthy: boolean;
  jobs: JobHealthEntry[];
  checkedAt: string;
  /** Display names by job id, for badges (not part of the JSON body). */
  names: Map<string, string>;
}

export interface JobMetrics {
  id: string;
  healthy: boolean;
  lastSuccessAt: Date | null;
  lastFinishedStatus: "completed" | "failed" | null;
}

export interface MetricsSnapshot {
  jobs: JobMetrics[];
  stats: ExecutionStatsRow[];
  boundsMs: number[];
  deliveries: { channel: string; state: string; count: number }[];
  schedulerLagSeconds: number | null;
}

/** The database did not answer in time, or refused. */
export const UNAVAILABLE: unique symbol = Symbol("database unavailable");
export type Unavailable = typeof UNAVAILABLE;

interface Cached<T> {
  value: Promise<T | Unavailable>;
  expiresAt: number;
}

export class HealthMonitor {
  readonly #sql: Sql;
  readonly #log: Logger | null;
  readonly #now: () => Date;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #cache = new Map<string, Cached<unknown>>();
  readonly #schedules = new Map<
    string,
    { schedule: Schedule | null; maxAgeMs: number | null; until: number }
  >();
  /** How many times the database was read (tests check that a burst costs one). */
  loads = 0;

  constructor(deps: { sql: Sql; now: () => Date; log?: Logger; ttlMs?: number; timeoutMs?: number }) {
    this.#sql = deps.sql;
    this.#log = deps.log ?? null;
    this.#now = deps.now;
    this.#ttlMs = deps.ttlMs ?? HEALTH_CACHE_MS;
    this.#timeoutMs = deps.timeoutMs ?? HEALTH_TIMEOUT_MS;
  }

  /** Every current job's health, and whether every critical job is healthy. */
  report(): Promise<HealthReport | Unavailable> {
    return this.#cached("report", listJobHealthRows, (rows, now) => {
      const jobs = rows.map((row) => this.#health(row, now));
      return {
        healthy: jobs.every((job) => job.healthy || !job.critical),
        jobs,
        checkedAt: now.toISOString(),
        names: new Map(rows.map((row) => [row.id, row.displayName])),
      };
    });
  }

  /** What /metrics shows. */
  metrics(): Promise<MetricsSnapshot | Unavailable> {
    const read = (sql: Sql) =>
      Promise.all([
        listJobHealthRows(sql),
        listExecutionStats(sql),
        getDurationBoundsMs(sql),
        countAlertDeliveries(sql),
        getSchedulerLagSeconds(sql, this.#now()),
      ]);
    return this.#cached("metrics", read, ([rows, stats, boundsMs, deliveries, schedulerLagSeconds], now) => ({
      jobs: rows.map((row) => ({
        id: row.id,
        healthy: this.#health(row, now).healthy,
        lastSuccessAt: row.lastSuccessAt,
        lastFinishedStatus: row.lastFailureAt !== null &&
            (row.lastSuccessAt === null || row.lastFailureAt > row.lastSuccessAt)
          ? "failed" as const
          : row.lastSuccessAt !== null
          ? "completed" as const
          : null,
      })),
      stats,
      boundsMs,
      deliveries,
      schedulerLagSeconds,
    }));
  }

  /** Whether the database answers and every migration is applied. */
  async ready(): Promise<"ready" | "migrations pending" | Unavailable> {
    const answer = await this.#cached("ready", (sql) => isMigrated(sql), (migrated) => migrated);
    return answer === UNAVAILABLE ? UNAVAILABLE : answer ? "ready" : "migrations pending";
  }

  #health(row: JobHealthRow, now: Date): JobHealthEntry {
    const { schedule, maxAgeMs } = this.#schedule(row, now);
    return { ...jobHealth({ ...row, schedule }, maxAgeMs, now), critical: row.critical };
  }

  /**
   * A stored schedule, parsed, and its derived max age. Working out the
   * longest gap walks a year of occurrences (a quarter of a second for a
   * per-minute schedule in a zone with DST), so it is kept for a day, with
   * the expiries spread so they do not all fall on one request.
   */
  #schedule(row: JobHealthRow, now: Date): { schedule: Schedule | null; maxAgeMs: number | null } {
    const key = `${row.schedule}\u0000${row.timezone}`;
    const known = this.#schedules.get(key);
    if (known && known.until > now.getTime()) return known;
    let schedule: Schedule | null = null;
    try {
      schedule = parseSchedule(row.schedule, row.timezone);
    } catch {
      // A schedule only newer code understands: the job is judged by its maxAgeHours, if any.
    }
    const entry = {
      schedule,
      maxAgeMs: schedule ? derivedMaxAgeMs(schedule, now) : null,
      until: now.getTime() + SCHEDULE_CACHE_MS + Math.random() * HOUR_MS,
    };
    this.#schedules.set(key, entry);
    return entry;
  }

  /**
   * The cached answer for `key`, or a new one: `read` runs against the
   * database within the timeout, then `build` (CPU only) makes the answer.
   */
  #cached<R, T>(
    key: string,
    read: (sql: Sql) => Promise<R>,
    build: (rows: R, now: Date) => T,
  ): Promise<T | Unavailable> {
    const now = Date.now();
    const hit = this.#cache.get(key) as Cached<T> | undefined;
    if (hit && hit.expiresAt > now) return hit.value;
    const value = this.#bounded(key, read).then((rows) =>
      rows === UNAVAILABLE ? UNAVAILABLE : build(rows, this.#now())
    );
    this.#cache.set(key, { value, expiresAt: now + this.#ttlMs });
    return value;
  }

  /** Runs `read` with a statement timeout, and gives up waiting after the timeout. */
  #bounded<R>(what: string, read: (sql: Sql) => Promise<R>): Promise<R | Unavailable> {
    this.loads++;
    const timeoutMs = this.#timeoutMs;
    const query = this.#sql.begin(async (tx) => {
      // Frees the database too, not only the request, when a statement is stuck.
      await tx.unsafe(`SET LOCAL statement_timeout = ${Math.round(timeoutMs)}`);
      return await read(tx as unknown as Sql);
    }).then((value): R | Unavailable => value as R, (error): R | Unavailable => {
      this.#log?.warn("the health check could not read the database", {
        check: what,
        error: error instanceof Error ? error.message : String(error),
      });
      return UNAVAILABLE;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<R | Unavailable>((resolve) => {
      timer = setTimeout(() => resolve(UNAVAILABLE), timeoutMs);
    });
    return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
  }
}
