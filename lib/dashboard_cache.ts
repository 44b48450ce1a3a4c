/**
 * The dashboard's reads, shared between requests: its job summaries and
 * its page of history. One read serves every request that arrives while it
 * runs and, for
 * `ttlMs` after, every request until an execution event (a run starting or
 * finishing on any instance: the bus carries LISTEN/NOTIFY) or a change made
 * here (a toggle) makes it stale. The cards then cost a render, not a scan
 * of the last 24 hours per request; the price is that a change the bus does
 * not carry (another instance's toggle, the 24-hour window sliding) shows up
 * to `ttlMs` late.
 */
import type { Queryable } from "./db/mod.ts";
import type { EventBus } from "./events.ts";
import type { HistoryPage, HistoryQuery } from "./history.ts";
import { type JobSummary, listJobSummaries } from "./queries/dashboard.ts";
import { listExecutions } from "./queries/history.ts";

/** How long main.ts lets a summary read serve later requests. */
export const DASHBOARD_CACHE_MS = 2_000;

interface Entry {
  value: Promise<unknown>;
  expiresAt: number;
  generation: number;
}

/** Distinct history queries kept at once (filters people use are few; the oldest goes first). */
const HISTORY_ENTRIES = 32;

export class JobSummaryCache {
  readonly #sql: Queryable;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();
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

  /** Forgets everything: the next request reads again. */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** Every job's summary as of about `now` (at most `ttlMs` older, never older than the last change). */
  list(now: Date): Promise<JobSummary[]> {
    return this.#shared("summaries", () => listJobSummaries(this.#sql, now));
  }

  /**
   * The dashboard's page of history for `query`, on the same terms as the
   * summaries: executions are what the events report, so an event drops it.
   */
  history(query: HistoryQuery): Promise<HistoryPage> {
    return this.#shared(`history ${JSON.stringify(query)}`, () => listExecutions(this.#sql, query));
  }

  #shared<T>(key: string, load: () => Promise<T>): Promise<T> {
    const cached = this.#entries.get(key);
    if (cached && cached.generation === this.#generation && Date.now() < cached.expiresAt) {
      return cached.value as Promise<T>;
    }
    const generation = this.#generation;
    this.loads++;
    const value = load();
    const entry: Entry = { value, expiresAt: Infinity, generation };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > HISTORY_ENTRIES + 1) this.#entries.delete(this.#entries.keys().next().value!);
    value.then(
      () => {
        // Kept from when it was read, so a slow read does not live longer.
        if (this.#entries.get(key) === entry) entry.expiresAt = Date.now() + this.#ttlMs;
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return value;
  }
}
