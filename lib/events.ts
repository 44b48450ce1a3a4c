/**
 * The execution event bus: every state change of an execution is published
 * here in-process, and on PostgreSQL also through NOTIFY jobwatch_events so
 * other instances hear it (see `relayNotifications`).
 */
import type { Sql } from "./db/mod.ts";

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
