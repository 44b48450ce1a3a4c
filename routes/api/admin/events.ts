/**
 * GET /api/admin/events[?jobId=…]: execution changes as Server-Sent Events,
 * for the live history. Each change is `event: execution` with
 * `{ executionId, jobId, status }`; the browser fetches the rows it needs.
 *
 * Not compressed: streamSSE sets Transfer-Encoding, which hono's compress()
 * leaves alone (its content-type filter also skips text/event-stream), so
 * every event is flushed as it is written.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { ExecutionEvent } from "../../../lib/events.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { HttpError } from "../../../lib/http/errors.ts";
import { getSessionUser } from "../../../lib/queries/sessions.ts";

/** A comment this often keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/** How long the browser waits before reconnecting a dropped stream. */
export const RECONNECT_MS = 2_000;
/**
 * Writes a client may fall behind by before its stream is ended: it
 * reconnects and refetches, instead of the server buffering without bound.
 */
const MAX_BACKLOG = 1000;

/** GET /api/admin/events: streams until the client goes away or the bus closes (shutdown). */
export function GET(c: Context<AppEnv>): Response {
  return streamExecutionEvents(c, c.var.deps.jobs.bus.closed);
}

/** Streams the bus's execution events until the client leaves or `end` aborts. */
export function streamExecutionEvents(c: Context<AppEnv>, end: AbortSignal): Response {
  const jobId = c.req.query("jobId") || null;
  if (jobId !== null && jobId.length > 200) throw new HttpError(400, "jobId is too long.");
  const { deps } = c.var;
  const { bus } = deps.jobs;
  const sessionIdHash = c.var.user!.sessionIdHash;
  // Tells nginx and its kin not to buffer the stream either.
  c.header("X-Accel-Buffering", "no");
  const response = streamSSE(c, async (stream) => {
    let backlog = 0;
    let writing: Promise<unknown> = stream.write(`retry: ${RECONNECT_MS}\n\n`);
    const send = (text: string) => {
      if (++backlog > MAX_BACKLOG) return stream.abort();
      writing = writing.then(() => stream.write(text)).finally(() => backlog--);
    };
    const unsubscribe = bus.on((event: ExecutionEvent) => {
      if (jobId !== null && event.jobId !== jobId) return;
      const { executionId, jobId: eventJobId, status } = event;
      send(`event: execution\ndata: ${JSON.stringify({ executionId, jobId: eventJobId, status })}\n\n`);
    });
    let finish = () => {};
    const finished = new Promise<void>((resolve) => finish = resolve);
    // The session was checked when the stream opened; a stream must not outlive it (sign-out, a
    // removed user, a password change, the idle or absolute timeout). Read-only: an open tab
    // alone does not keep a session alive.
    const heartbeat = setInterval(async () => {
      const signedIn = await getSessionUser(deps.sql, sessionIdHash, deps.config.sessionIdleMs, deps.now())
        .then((user) => user !== null, () => true);
      if (signedIn) send(": heartbeat\n\n");
      else finish();
    }, HEARTBEAT_MS);
    // A client that goes away cancels the body, which aborts the stream. (Not request.signal:
    // Deno.serve also aborts that after every successful response, and warns when it is read.)
    stream.onAbort(finish);
    end.addEventListener("abort", finish);
    if (end.aborted) finish();
    try {
      await finished;
    } finally {
      unsubscribe();
      clearInterval(heartbeat);
      end.removeEventListener("abort", finish);
    }
  });
  // After streamSSE, which sets no-cache: nothing of a signed-in stream belongs in a cache.
  response.headers.set("Cache-Control", "no-store");
  return response;
}
