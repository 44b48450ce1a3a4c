/**
 * The dashboard's job summaries, shared between requests: one read of
 * listJobSummaries serves every request that arrives while it runs and, for
 * `ttlMs` after, every request until an execution event (a run starting or
 * finishing on any instance: the bus carries LISTEN/NOTIFY) or a change made
 * here (a toggle) makes it stale. The cards then cost a render, not a scan
 * of the last 24 hours per request; the price is that a change the bus does
 * not carry (another instance's toggle, the 24-hour window sliding) shows up
 * to `ttlMs` late.
 */
import type { Queryable } from "./db/mod.ts";
import type { EventBus } from "./events.ts";
import { type JobSummary, listJobSummaries } from "./queries/dashboard.ts";

/** How long main.ts lets a summary read serve later requests. */
export const DASHBOARD_CACHE_MS = 2_000;

export class JobSummaryCache {
  readonly #sql: Queryable;
  readonly #ttlMs: number;
  #cached: { value: Promise<JobSummary[]>; expiresAt: number; generation: number } | null = null;
  /** Bumped by every change; a read that started before one is shared but not kept. */
  #generation = 0;
  /** How many times the database was read (tests check that a burst costs one). */
  loads = 0;

  constructor(deps: { sql: Queryable; bus?: EventBus; ttlMs?: number }) {
    this.#sql = deps.sql;
    this.#ttlMs = deps.ttlMs ?? 0;
    // Without a time to live nothing is kept, so there is nothing for an event to make stale.
    if (this.#ttlMs > 0) deps.bus?.on(() => this.invalidate());
  }

  /** Forgets the summaries: the next request reads them again. */
  invalidate(): void {
    this.#generation++;
    this.#cached = null;
  }

  /** Every job's summary as of about `now` (at most `ttlMs` older, never older than the last change). */
  list(now: Date): Promise<JobSummary[]> {
    const cached = this.#cached;
    if (cached && cached.generation === this.#generation && Date.now() < cached.expiresAt) {
      return cached.value;
    }
    const generation = this.#generation;
    this.loads++;
    const value = listJobSummaries(this.#sql, now);
    const entry = { value, expiresAt: Infinity, generation };
    this.#cached = entry;
    value.then(
      () => {
        // Kept from when it was read, so a slow read does not live longer.
        if (this.#cached === entry) entry.expiresAt = Date.now() + this.#ttlMs;
      },
      () => {
        if (this.#cached === entry) this.#cached = null;
      },
    );
    return value;
  }
}
