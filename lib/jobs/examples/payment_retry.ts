/**
 * `payment-retry` (example): retries failed demo payments. No payment
 * provider is called: whether a retry "succeeds" is a pure function of the
 * payment id and the attempt number, so runs are reproducible.
 */
import type { TransactionSql } from "../../db/mod.ts";
import { defineJob, type Job, type JobContext } from "../define.ts";

export const PAYMENT_BATCH_SIZE = 100;
/** A payment still failing after this many attempts is abandoned. */
export const MAX_PAYMENT_ATTEMPTS = 4;
const HOUR_MS = 3_600_000;

export interface PaymentRetryReport {
  retried: number;
  paid: number;
  abandoned: number;
}

export type RetryOutcome =
  | { status: "paid"; attempts: number; nextAttemptAt: null }
  | { status: "abandoned"; attempts: number; nextAttemptAt: null }
  | { status: "retrying"; attempts: number; nextAttemptAt: Date };

/**
 * FNV-1a, 32 bit, with MurmurHash3's finaliser: a stable stand-in for the
 * provider's answer. Without the finaliser the low bit of FNV-1a is a mere
 * parity of the characters, so attempts would strictly alternate.
 */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Whether the demo "provider" accepts attempt `attempt` (1-based) of a payment: an even hash succeeds. */
export function retrySucceeds(paymentId: string, attempt: number): boolean {
  return hash32(`${paymentId}:${attempt}`) % 2 === 0;
}

/**
 * What one more attempt does to a payment that has had `attempts` so far:
 * paid, abandoned after the last allowed attempt, or retried later with
 * backoff (1 h, 2 h, 4 h after attempts 1, 2, 3).
 */
export function retryPayment(paymentId: string, attempts: number, now: Date): RetryOutcome {
  const attempt = attempts + 1;
  if (retrySucceeds(paymentId, attempt)) return { status: "paid", attempts: attempt, nextAttemptAt: null };
  if (attempt >= MAX_PAYMENT_ATTEMPTS) return { status: "abandoned", attempts: attempt, nextAttemptAt: null };
  return {
    status: "retrying",
    attempts: attempt,
    nextAttemptAt: new Date(now.getTime() + HOUR_MS * 2 ** (attempt - 1)),
  };
}

/** Claims and retries one batch of due payments; returns what became of each. */
async function retryBatch(tx: TransactionSql, now: Date): Promise<RetryOutcome[]> {
  // demo_payments_due_idx; SKIP LOCKED leaves payments another instance is
  // retrying to that instance.
  const due = await tx<{ id: string; attempts: number }[]>`
    SELECT id, attempts
    FROM demo_payments
    WHERE status IN ('failed', 'retrying') AND next_attempt_at <= ${now}
    ORDER BY next_attempt_at, id
    LIMIT ${PAYMENT_BATCH_SIZE}
    FOR UPDATE SKIP LOCKED
  `;
  const outcomes: RetryOutcome[] = [];
  for (const payment of due) {
    const outcome = retryPayment(payment.id, payment.attempts, now);
    await tx`
      UPDATE demo_payments
      SET status          = ${outcome.status},
          attempts        = ${outcome.attempts},
          next_attempt_at = ${outcome.nextAttemptAt},
          updated_at      = ${now}
      WHERE id = ${payment.id}
    `;
    outcomes.push(outcome);
  }
  return outcomes;
}

/**
 * Retries every failed or retrying payment due at `now`, a batch per
 * transaction, checking `ctx.signal` between batches. Paid and abandoned
 * payments are never touched.
 */
export async function retryPayments(ctx: JobContext, now: Date): Promise<PaymentRetryReport> {
  const { sql, signal, log } = ctx;
  const report: PaymentRetryReport = { retried: 0, paid: 0, abandoned: 0 };
  while (true) {
    signal.throwIfAborted();
    // A retried payment is paid, abandoned or due later, so it never comes back in this run.
    const outcomes = await sql.begin((tx) => retryBatch(tx, now));
    report.retried += outcomes.length;
    report.paid += outcomes.filter((outcome) => outcome.status === "paid").length;
    report.abandoned += outcomes.filter((outcome) => outcome.status === "abandoned").length;
    if (outcomes.length < PAYMENT_BATCH_SIZE) break;
  }
  log.info(
    `retried ${report.retried} payments: ${report.paid} paid, ${report.abandoned} abandoned ` +
      "(demo: no payment provider was called)",
    { ...report },
  );
  return report;
}

export const paymentRetryJob: Job = defineJob({
  id: "payment-retry",
  displayName: "Payment Retry",
  description: "Example job: retries failed demo payments, gives up after 4 attempts. " +
    "No payment provider is called; the outcome is simulated.",
  schedule: "rate(1 hour)",
  timezone: "UTC",
  critical: true,
  maxAgeHours: 2,
  run: (ctx) => retryPayments(ctx, new Date()),
});
