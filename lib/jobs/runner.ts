/**
 * Runs in-process handlers: gives each an AbortSignal, enforces its timeout
 * even when the handler ignores the signal, validates the result as JSON,
 * and records the outcome with a guarded UPDATE.
 */
import { type AlertHooks, finishWithAlerts, UNROUTED } from "../alerts/record.ts";
import { isDatabaseUnavailable, type Queryable, type Sql } from "../db/mod.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../http/context.ts";
import { type Changed, completeExecution, failExecution } from "../queries/executions.ts";
import { headText, jsonWithoutNul, MAX_ERROR_CHARS, MAX_LOG_CHARS, tailText } from "../text.ts";
import type { Job, JobLogger, Trigger } from "./define.ts";

export const MAX_RESULT_BYTES = 64 * 1024;
const MAX_STACK_CHARS = 4 * 1024;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2000;

/** A database that is down or unreachable, as opposed to our own pool being closed at shutdown. */
function isOutage(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return isDatabaseUnavailable(error) && code !== "CONNECTION_ENDED" && code !== "CONNECTION_DESTROYED";
}

export interface RunnerDeps {
  sql: Sql;
  bus: EventBus;
  log: Logger;
  now: () => Date;
  instanceId: string;
  /** Where the alerts a finished run raises go; default: recorded, not sent. */
  alerts?: AlertHooks;
}

export interface StartedExecution {
  executionId: string;
  periodKey: string;
  trigger: Trigger;
}

export type RunOutcome = "completed" | "failed" | "timed out" | "already finished" | "not recorded";

/**
 * Checks that a handler's return value can be stored as JSON and returns
 * the value as it will be stored; `undefined` becomes null. Throws a
 * TypeError that says why not (BigInt, a cycle, a function, too large).
 */
export function toStoredResult(value: unknown): unknown {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`the result is not JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new TypeError(`the result is not JSON: a ${typeof value} cannot be stored`);
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_RESULT_BYTES) {
    throw new TypeError(`the result is ${Math.ceil(bytes / 1024)} KB; results are limited to 64 KB`);
  }
  return jsonWithoutNul(JSON.parse(text));
}

/** Publishes a committed change on the bus (on PostgreSQL, forwardNotifications tells other instances). */
export function publish(bus: EventBus, instanceId: string, changed: Changed | null): void {
  if (changed) bus.emit({ ...changed, instanceId });
}

export class Runner {
  readonly #deps: RunnerDeps;
  readonly #running = new Map<string, { controller: AbortController; done: Promise<RunOutcome> }>();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  /** How many handlers this instance is running now. */
  get active(): number {
    return this.#running.size;
  }

  /**
   * Starts a handler for a `running` execution; the promise settles when its
   * outcome is recorded, and never rejects (a failure to record is logged).
   */
  start(job: Job, execution: StartedExecution): Promise<RunOutcome> {
    if (this.#stopping) {
      // Shutting down: the row exists, so record why it will not run.
      return this.#record(
        execution.executionId,
        () =>
          this.#finish((tx) =>
            failExecution(tx, execution.executionId, {
              completedAt: this.#deps.now(),
              errorMessage: "interrupted: shutdown",
            })
          ),
        "failed",
      );
    }
    const controller = new AbortController();
    const done = this.#run(job, execution, controller)
      .catch((error) => {
        this.#deps.log.error("recording a run failed", {
          execution: execution.executionId,
          error: error instanceof Error ? error.message : String(error),
        });
        return "not recorded" as const;
      })
      .finally(() => this.#running.delete(execution.executionId));
    this.#running.set(execution.executionId, { controller, done });
    return done;
  }

  #stopping = false;

  /**
   * Shutdown: aborts every running handler's signal, waits up to `drainMs`
   * for them to record their outcome, then fails the rest as
   * "interrupted: shutdown" so they are not left running until reaped.
   */
  async shutdown(drainMs: number): Promise<void> {
    this.#stopping = true;
    for (const { controller } of this.#running.values()) {
      controller.abort(new DOMException("interrupted: shutdown", "AbortError"));
    }
    await Promise.race([this.settle(), new Promise((resolve) => setTimeout(resolve, drainMs))]);
    const { now, instanceId, bus } = this.#deps;
    for (const executionId of [...this.#running.keys()]) {
      const changed = await this.#finish((tx) =>
        failExecution(tx, executionId, {
          completedAt: now(),
          errorMessage: "interrupted: shutdown",
        })
      ).catch(() => null);
      publish(bus, instanceId, changed);
    }
  }

  async #record(
    executionId: string,
    write: () => Promise<Changed | null>,
    outcome: RunOutcome,
  ): Promise<RunOutcome> {
    const changed = await write().catch((error) => {
      this.#deps.log.error("recording a run failed", { execution: executionId, error: String(error) });
      return null;
    });
    publish(this.#deps.bus, this.#deps.instanceId, changed);
    return changed ? outcome : "already finished";
  }

  /**
   * Writes a run's outcome and raises its alerts in one transaction. With a
   * `retryUntil`, a database that cannot be reached is retried with backoff
   * (0.25 s doubling to 2 s) until then, so a run that finishes during an
   * outage is recorded when the database returns instead of being reaped as
   * lost. The write is one transaction, so a retry never doubles it.
   */
  async #finish(
    write: (tx: Queryable) => Promise<Changed | null>,
    retryUntil?: number,
  ): Promise<Changed | null> {
    const { sql, alerts, now, log } = this.#deps;
    for (
      let delayMs = RETRY_FIRST_MS, attempt = 1;;
      delayMs = Math.min(delayMs * 2, RETRY_MAX_MS), attempt++
    ) {
      try {
        return await finishWithAlerts(sql, alerts ?? UNROUTED, now(), write);
      } catch (error) {
        if (
          !retryUntil || !isOutage(error) || Date.now() + delayMs > retryUntil || this.#stopping
        ) throw error;
        if (attempt === 1) {
          log.warn("the database is unavailable; retrying the run's outcome", {
            code: (error as { code: string }).code,
            until: new Date(retryUntil).toISOString(),
          });
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** Waits for every running handler (tests, and shutdown). */
  async settle(): Promise<void> {
    while (this.#running.size > 0) {
      await Promise.allSettled([...this.#running.values()].map((r) => r.done));
    }
  }

  async #run(job: Job, execution: StartedExecution, controller: AbortController): Promise<RunOutcome> {
    const { sql, bus, now, instanceId } = this.#deps;
    const lines: string[] = [];
    const log = jobLogger(this.#deps.log, job.id, execution.executionId, lines);
    const startedAt = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<{ kind: "timeout" }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timeout" }), job.timeoutSeconds * 1000);
    });
    const handler = (async () => {
      return await job.run!({
        signal: controller.signal,
        executionId: execution.executionId,
        periodKey: execution.periodKey,
        trigger: execution.trigger,
        sql,
        log,
      });
    })().then(
      (value) => ({ kind: "returned" as const, value }),
      (error: unknown) => ({ kind: "threw" as const, error }),
    );
    const outcome = await Promise.race([handler, timeout]);
    clearTimeout(timer);
    const tail = () => tailText(lines.join("\n"), MAX_LOG_CHARS);
    // The outcome's time is when it happened, however long its write waits for the database.
    const completedAt = now();
    // Well inside the reaper's grace (timeout + 2 min after the start), so it never races a retry.
    const retryUntil = startedAt + (job.timeoutSeconds + 60) * 1000;

    if (outcome.kind === "timeout") {
      controller.abort(new DOMException(`timed out after ${job.timeoutSeconds} s`, "TimeoutError"));
      const changed = await this.#finish((tx) =>
        failExecution(tx, execution.executionId, {
          completedAt,
          errorMessage: `timed out after ${job.timeoutSeconds} s`,
          metadata: { timedOut: true },
          log: tail(),
        }), retryUntil);
      publish(bus, instanceId, changed);
      return changed ? "timed out" : "already finished";
    }
    if (outcome.kind === "threw") {
      const error = outcome.error;
      const message = error instanceof Error ? error.message || error.name : String(error);
      const stack = error instanceof Error && error.stack
        ? headText(error.stack, MAX_STACK_CHARS)
        : undefined;
      const changed = await this.#finish((tx) =>
        failExecution(tx, execution.executionId, {
          completedAt,
          errorMessage: headText(message, MAX_ERROR_CHARS) || "the handler threw without a message",
          metadata: stack ? { stack } : {},
          log: tail(),
        }), retryUntil);
      publish(bus, instanceId, changed);
      return changed ? "failed" : "already finished";
    }
    let result: unknown;
    try {
      result = toStoredResult(outcome.value);
    } catch (error) {
      const changed = await this.#finish((tx) =>
        failExecution(tx, execution.executionId, {
          completedAt,
          errorMessage: (error as Error).message,
          log: tail(),
        }), retryUntil);
      publish(bus, instanceId, changed);
      return changed ? "failed" : "already finished";
    }
    const changed = await this.#finish((tx) =>
      completeExecution(tx, execution.executionId, {
        completedAt,
        result,
        log: tail(),
      }), retryUntil);
    publish(bus, instanceId, changed);
    return changed ? "completed" : "already finished";
  }
}

function jobLogger(log: Logger, jobId: string, executionId: string, lines: string[]): JobLogger {
  const write = (level: "info" | "warn" | "error") => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level.toUpperCase()} ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
    if (lines.length > 500) lines.shift();
    log[level](message, { job: jobId, execution: executionId, ...fields });
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}
