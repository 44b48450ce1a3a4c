/**
 * A local stand-in for Resend's API (POST /emails) and for a webhook
 * receiver (any other path), on a free loopback port. Tests script its
 * answers with `respondWith` and read what arrived from `requests`.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. "/emails" or "/hook?token=x". */
  path: string;
  /** Lower-case names, as Headers gives them. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  idempotencyKey: string | null;
  receivedAt: number;
}

/**
 * An answer: a status (error statuses get Resend's `{ statusCode, name,
 * message }` unless a body is given; a string body is sent as plain text),
 * or a request held until `hold` settles, then answered with `then` (or the
 * default).
 */
export type FakeResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { hold: Promise<unknown>; then?: FakeResponse };

export interface FakeResend {
  /** http://127.0.0.1:PORT: RESEND_BASE_URL, or the base of a webhook URL. */
  url: string;
  /** Every request, in order of arrival. */
  requests: RecordedRequest[];
  /** E-mails accepted (2xx), one per distinct idempotency key, as Resend deduplicates them. */
  delivered: RecordedRequest[];
  /** The next requests get these answers in order; after them, the default 200. */
  respondWith(...responses: FakeResponse[]): void;
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs` (5000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Answers held requests with 503 and stops the server. */
  close(): Promise<void>;
}

const ERROR_NAMES: Record<number, string> = {
  400: "validation_error",
  401: "missing_api_key",
  403: "invalid_api_key",
  404: "not_found",
  405: "method_not_allowed",
  409: "invalid_idempotent_request",
  422: "validation_error",
  429: "rate_limit_exceeded",
};

interface Waiter {
  count: number;
  resolve(requests: RecordedRequest[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Starts the fake; always `close()` it. */
export function startFakeResend(): Promise<FakeResend> {
  const requests: RecordedRequest[] = [];
  const delivered: RecordedRequest[] = [];
  const idsByKey = new Map<string, string>();
  const script: FakeResponse[] = [];
  const waiters = new Set<Waiter>();
  let closing = false;
  let releaseHeld!: () => void;
  const closed = new Promise<void>((resolve) => (releaseHeld = resolve));

  const record = (request: RecordedRequest) => {
    requests.push(request);
    for (const waiter of waiters) {
      if (requests.length >= waiter.count) {
        clearTimeout(waiter.timer);
        waiters.delete(waiter);
        waiter.resolve([...requests]);
      }
    }
  };

  const answer = (recorded: RecordedRequest, scripted: FakeResponse | undefined): Response => {
    const isEmail = recorded.method === "POST" && recorded.path.split("?")[0] === "/emails";
    if (scripted && "status" in scripted) {
      const { status } = scripted;
      const body = scripted.body ??
        (status >= 400
          ? {
            statusCode: status,
            name: ERROR_NAMES[status] ?? "application_error",
            message: `fake error ${status}`,
          }
          : isEmail
          ? { id: crypto.randomUUID() }
          : { ok: true });
      if (isEmail && status >= 200 && status < 300) accept(recorded, body);
      return json(status, body, scripted.headers);
    }
    if (!isEmail) return json(200, { ok: true });
    const key = recorded.idempotencyKey;
    const id = (key !== null && idsByKey.get(key)) || crypto.randomUUID();
    const body = { id };
    accept(recorded, body);
    return json(200, body);
  };

  /** Counts an accepted e-mail once per idempotency key, remembering the id Resend would repeat. */
  const accept = (recorded: RecordedRequest, body: unknown) => {
    const key = recorded.idempotencyKey;
    if (key !== null && idsByKey.has(key)) return;
    const id = (body as { id?: unknown } | null)?.id;
    if (key !== null) idsByKey.set(key, typeof id === "string" ? id : crypto.randomUUID());
    delivered.push(recorded);
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: unknown = text;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const recorded: RecordedRequest = {
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(request.headers),
      body,
      idempotencyKey: request.headers.get("idempotency-key"),
      receivedAt: Date.now(),
    };
    let scripted = script.shift();
    record(recorded);
    while (scripted && "hold" in scripted) {
      await Promise.race([scripted.hold.catch(() => {}), closed]);
      if (closing) return json(503, { statusCode: 503, name: "application_error", message: "fake closed" });
      scripted = scripted.then;
    }
    return answer(recorded, scripted);
  });

  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    delivered,
    respondWith(...responses) {
      script.push(...responses);
    },
    waitForRequests(count, timeoutMs = 5000) {
      if (requests.length >= count) return Promise.resolve([...requests]);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`expected ${count} requests within ${timeoutMs} ms, got ${requests.length}`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    async close() {
      if (closing) return await server.finished;
      closing = true;
      releaseHeld();
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`the fake closed after ${requests.length} requests`));
      }
      waiters.clear();
      await server.shutdown();
    },
  });
}

/** A string body is sent as it is (text/plain); anything else as JSON. */
function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = typeof body === "string";
  return new Response(text ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": text ? "text/plain; charset=utf-8" : "application/json", ...headers },
  });
}
