/**
 * The browser end of GET /api/admin/events: an EventSource that reports
 * whether it is live, and comes back by itself. EventSource retries a
 * dropped stream on its own; when it gives up (readyState CLOSED, as after
 * a 401 or a 5xx) this opens a new one with capped exponential backoff.
 */

export type LiveState = "connecting" | "live" | "reconnecting";

export interface ExecutionChange {
  executionId: string;
  jobId: string;
  status: string;
}

export interface LiveStreamHandlers {
  onChange(change: ExecutionChange): void;
  onState(state: LiveState): void;
  /** Called on every open; `afterError` is true when events may have been missed since the last one. */
  onOpen(afterError: boolean): void;
}

const MAX_BACKOFF_MS = 30_000;

/** Opens the stream; returns the function that closes it for good. */
export function openLiveStream(url: string, handlers: LiveStreamHandlers): () => void {
  let source: EventSource | null = null;
  let failures = 0;
  let erred = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const onChange = (event: MessageEvent<string>) => {
    try {
      const change = JSON.parse(event.data) as ExecutionChange;
      if (typeof change?.executionId === "string") handlers.onChange(change);
    } catch {
      // Not ours; ignore it.
    }
  };

  const connect = () => {
    if (stopped) return;
    const current = new EventSource(url);
    source = current;
    current.addEventListener("execution", onChange as EventListener);
    current.onopen = () => {
      failures = 0;
      handlers.onState("live");
      handlers.onOpen(erred);
      erred = false;
    };
    current.onerror = () => {
      erred = true;
      handlers.onState("reconnecting");
      if (current.readyState !== EventSource.CLOSED) return;
      current.close();
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures++) * (0.75 + Math.random() / 2);
      timer = setTimeout(connect, delay);
    };
  };

  handlers.onState("connecting");
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}
