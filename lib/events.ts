/**
 * The execution event bus: every state change of an execution is published
 * here in-process once it has committed, and on PostgreSQL also sent
 * through NOTIFY jobwatch_events so other instances hear it
 * (`forwardNotifications` out, `relayNotifications` in).
 */
import type { Sql } from "./db/mod.ts";
import type { Logger } from "./http/context.ts";

export type ExecutionStatus = "running" | "completed" | "failed" | "skipped";

export interface ExecutionEvent {
  executionId: string;
  jobId: string;
  status: ExecutionStatus;
  /** The instance that made the change; relays skip their own events. */
  instanceId: string;
}

export type Listener = (event: ExecutionEvent) => void;

export class EventBus {
  #listeners = new Set<Listener>();
  #closing = new AbortController();

  /**
   * Aborted by `close()`. Long-lived subscribers (the SSE streams) end on
   * it; an open stream would otherwise keep `server.shutdown()` waiting.
   */
  get closed(): AbortSignal {
    return this.#closing.signal;
  }

  /** Ends the event streams (at shutdown); events still reach other listeners. */
  close(): void {
    this.#closing.abort();
  }

  /** How many listeners are subscribed (tests check that streams clean up). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: ExecutionEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error("event listener failed", error);
      }
    }
  }
}

export const NOTIFY_CHANNEL = "jobwatch_events";

/**
 * Re-emits other instances' NOTIFY events on the local bus (PostgreSQL only:
 * the embedded database is one process, whose bus already has every event).
 */
export async function relayNotifications(
  sql: Sql,
  bus: EventBus,
  instanceId: string,
): Promise<() => Promise<void>> {
  const { unlisten } = await sql.listen(NOTIFY_CHANNEL, (payload) => {
    try {
      const event = JSON.parse(payload) as ExecutionEvent;
      if (event.instanceId !== instanceId) bus.emit(event);
    } catch {
      // A malformed payload is not ours; ignore it.
    }
  });
  return unlisten;
}

/** How many events one NOTIFY transaction carries at most. */
const NOTIFY_BATCH = 500;

/**
 * Sends this instance's events to the others. NOTIFY is not done in the
 * statement that changes a run: PostgreSQL takes one database-wide lock
 * when a transaction that notified commits, and holds it through the WAL
 * flush, so every run's commit would wait in a single line (the bench's
 * ingest showed commits queued on that lock). Instead the events of a
 * moment go out together in one small transaction that does not wait for
 * the flush (`synchronous_commit = off`): an event is a hint to refresh,
 * and the run itself is already committed. If that transaction fails (the
 * database is away) the events are logged as lost; other instances catch
 * up from the tables at their next refresh.
 */
export function forwardNotifications(
  sql: Sql,
  bus: EventBus,
  instanceId: string,
  log: Pick<Logger, "warn">,
): () => Promise<void> {
  let queue: string[] = [];
  let sending: Promise<void> | null = null;
  const send = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, NOTIFY_BATCH);
      queue = queue.slice(batch.length);
      try {
        await sql.begin(async (tx) => {
          await tx`SET LOCAL synchronous_commit = off`;
          await tx`SELECT pg_notify(${NOTIFY_CHANNEL}, payload) FROM unnest(${batch}::text[]) AS payload`;
        });
      } catch (error) {
        log.warn("could not tell other instances about run changes", {
          events: batch.length,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    sending = null;
  };
  const stop = bus.on((event) => {
    if (event.instanceId !== instanceId) return;
    queue.push(JSON.stringify(event));
    sending ??= send();
  });
  /** Stops forwarding, after sending what is queued. */
  return async () => {
    stop();
    await sending;
  };
}
