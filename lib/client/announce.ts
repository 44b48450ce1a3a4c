/**
 * "A run just started": islands tell each other on `window`, so the
 * history shows a run begun by Run now or Retry before its server event
 * arrives (or at all, when the live stream is off).
 */

export const EXECUTION_ANNOUNCED = "jobwatch:execution";

/** Tells listening islands that execution `executionId` exists or changed. */
export function announceExecution(executionId: string): void {
  globalThis.dispatchEvent(new CustomEvent(EXECUTION_ANNOUNCED, { detail: { executionId } }));
}

/** Listens for announced executions; returns the function that stops listening. */
export function onExecutionAnnounced(listener: (executionId: string) => void): () => void {
  const handle = (event: Event) => {
    const executionId = (event as CustomEvent<{ executionId?: unknown }>).detail?.executionId;
    if (typeof executionId === "string") listener(executionId);
  };
  globalThis.addEventListener(EXECUTION_ANNOUNCED, handle);
  return () => globalThis.removeEventListener(EXECUTION_ANNOUNCED, handle);
}
