/**
 * Delivers the alert outbox: claims due rows (FOR UPDATE SKIP LOCKED, with
 * a lease), sends each through its channel with an idempotency key derived
 * from the row, and records the outcome. Failures worth retrying (429, 5xx,
 * network errors) back off exponentially, honouring Retry-After, up to
 * MAX_ATTEMPTS; then the row is failed and the pages show it.
 *
 * A process that dies between the provider accepting and the row being
 * marked leaves it 'sending'; when its lease runs out another worker sends it
 * again with the same key, and the provider drops the duplicate.
 */
import type { Sql } from "../db/mod.ts";
import type { Logger } from "../http/context.ts";
import {
  claimDeliveries,
  type ClaimedDelivery,
  type DeliveryOutcome,
  recordDeliveryOutcome,
} from "../queries/alerts.ts";
import type { AlertChannel, AlertChannelName, DeliveryResult } from "./types.ts";

/** After this many attempts a delivery is failed for good. */
export const MAX_ATTEMPTS = 10;
/** The first retry waits this long; each after waits twice as long, up to MAX_BACKOFF_MS. */
export const FIRST_BACKOFF_MS = 30_000;
export const MAX_BACKOFF_MS = 3_600_000;
/** A claim is held this long; a send is abandoned well before (SEND_TIMEOUT_MS). */
export const LEASE_MS = 60_000;
export const SEND_TIMEOUT_MS = 15_000;
/** How often the outbox is polled besides the wake-ups after new alerts. */
export const POLL_INTERVAL_MS = 5_000;
const BATCH = 20;

/** The key a delivery carries on every attempt (Resend's Idempotency-Key, the webhook's header). */
export function idempotencyKey(deliveryKey: string): string {
  return `jobwatch-alert-${deliveryKey}`;
}

/** How long to wait before attempt `attempts + 1`, after `attempts` attempts failed. */
export function backoffMs(attempts: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, 1000), MAX_BACKOFF_MS);
  return Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/** The row's next state after an attempt. Pure. */
export function nextOutcome(attempts: number, result: DeliveryResult, now: Date): DeliveryOutcome {
  if (result.outcome === "sent") return { state: "sent", at: now, providerId: result.providerId };
  if (result.outcome === "failed") return { state: "failed", error: result.error };
  if (attempts >= MAX_ATTEMPTS) {
    return { state: "failed", error: `gave up after ${attempts} attempts; last error: ${result.error}` };
  }
  return {
    state: "pending",
    nextAttemptAt: new Date(now.getTime() + backoffMs(attempts, result.retryAfterMs)),
    error: result.error,
  };
}

export interface AlertWorkerDeps {
  sql: Sql;
  log: Logger;
  now: () => Date;
  instanceId: string;
  channels: Partial<Record<AlertChannelName, AlertChannel>>;
}

export class AlertWorker {
  readonly #deps: AlertWorkerDeps;
  #running: Promise<number> | null = null;
  #again = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;

  constructor(deps: AlertWorkerDeps) {
    this.#deps = deps;
  }

  /**
   * Delivers every due row, batch by batch; resolves with how many attempts
   * it made. Calls while one is running join it (and it goes round again),
   * so one instance never claims in parallel with itself.
   */
  deliverDue(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let attempts = 0;
      try {
        do {
          this.#again = false;
          attempts += await this.#drain();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#running = null;
      }
      return attempts;
    })();
    return this.#running;
  }

  /** Starts delivering soon (after a commit that queued alerts); errors are logged. */
  wake(): void {
    if (this.#stopped) return;
    setTimeout(() => this.#deliverLogged(), 0);
  }

  /** Polls the outbox every `intervalMs` (retries come due without a wake-up). */
  start(intervalMs = POLL_INTERVAL_MS): void {
    this.#timer ??= setInterval(() => this.#deliverLogged(), intervalMs);
  }

  /** Stops polling and waits for a delivery round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  #deliverLogged(): void {
    if (this.#stopped) return;
    this.deliverDue().catch((error) =>
      this.#deps.log.error("delivering alerts failed", {
        error: error instanceof Error ? error.message : String(error),
      })
    );
  }

  async #drain(): Promise<number> {
    const { sql, now, instanceId } = this.#deps;
    let attempts = 0;
    // Bounded: a flood of alerts is worked off over a few rounds, not in one loop.
    for (let round = 0; round < 10 && !this.#stopped; round++) {
      const claimed = await claimDeliveries(sql, { now: now(), leaseMs: LEASE_MS, limit: BATCH, instanceId });
      await Promise.all(claimed.map((delivery) => this.#deliver(delivery)));
      attempts += claimed.length;
      if (claimed.length < BATCH) break;
    }
    return attempts;
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const { sql, now, instanceId, log } = this.#deps;
    const channel = this.#deps.channels[delivery.channel];
    const result: DeliveryResult = channel
      ? await channel.deliver(
        delivery.alert,
        delivery.recipients,
        idempotencyKey(delivery.deliveryKey),
        AbortSignal.timeout(SEND_TIMEOUT_MS),
      ).catch((error) => ({
        outcome: "retry" as const,
        error: `the ${delivery.channel} channel threw: ${
          error instanceof Error ? error.message : String(error)
        }`,
        retryAfterMs: null,
      }))
      : {
        outcome: "retry",
        error: `this instance (${instanceId}) has no ${delivery.channel} channel configured`,
        retryAfterMs: null,
      };
    const outcome = nextOutcome(delivery.attempts, result, now());
    const recorded = await recordDeliveryOutcome(sql, {
      id: delivery.id,
      attempts: delivery.attempts,
      instanceId,
    }, outcome);
    if (!recorded) {
      log.warn("an alert delivery was claimed again before its outcome was recorded", {
        delivery: delivery.id,
      });
    } else if (outcome.state !== "sent") {
      log.warn(outcome.state === "failed" ? "alert delivery failed" : "alert delivery will be retried", {
        delivery: delivery.id,
        channel: delivery.channel,
        attempts: delivery.attempts,
        error: outcome.error,
      });
    }
  }
}
