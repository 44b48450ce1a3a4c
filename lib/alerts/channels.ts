/**
 * The ways out: Resend e-mail and a webhook (Slack's, or any JSON receiver).
 * Each delivery is one bounded attempt that reports a DeliveryResult and
 * never throws; the outbox worker decides when to try again.
 */
import { Resend } from "resend";
import { headText } from "../text.ts";
import { isSlackWebhook, type RenderedEmail, renderEmail, renderWebhookPayload } from "./message.ts";
import { singleLine } from "./describe.ts";
import type { AlertChannel, DeliveryResult } from "./types.ts";

const DEFAULT_TIMEOUT_MS = 10_000;
/** Resend refuses an e-mail with more than 50 recipients. */
export const MAX_RECIPIENTS = 50;
/** Provider messages quoted in an outbox row's last_error are cut to this. */
const MAX_QUOTED_CHARS = 300;

export interface ResendChannelOptions {
  apiKey: string;
  /** RESEND_BASE_URL (a local fake in tests); null: Resend's API. */
  baseUrl: string | null;
  from: string;
  appUrl: string;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * E-mail through Resend's SDK. Every attempt of one outbox row sends the
 * same payload with the same Idempotency-Key, so Resend sends it only once.
 */
export function createResendChannel(options: ResendChannelOptions): AlertChannel {
  // The SDK joins baseUrl and "/emails" as strings: a trailing slash would make "//emails".
  const baseUrl = options.baseUrl?.replace(/\/+$/, "") || undefined;
  const resend = new Resend(options.apiKey, { baseUrl });
  const host = hostOf(resend.baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const quote = (text: unknown) => quoted(text, [options.apiKey]);

  return {
    name: "email",
    async deliver(alert, recipients, idempotencyKey, signal): Promise<DeliveryResult> {
      if (recipients.length === 0) return { outcome: "failed", error: "no recipients" };
      let email: RenderedEmail;
      try {
        email = renderEmail(alert, options.appUrl);
      } catch (error) {
        return {
          outcome: "failed",
          error: `the e-mail could not be rendered: ${quote(errorMessage(error))}`,
        };
      }
      // Resend takes at most 50 addresses per e-mail: larger lists go out in parts, each with a key of
      // its own, so when a retry repeats the parts Resend already accepted, it drops them.
      const parts: string[][] = [];
      for (let i = 0; i < recipients.length; i += MAX_RECIPIENTS) {
        parts.push(recipients.slice(i, i + MAX_RECIPIENTS));
      }
      const ids: string[] = [];
      for (const [index, to] of parts.entries()) {
        const result = await send(to, parts.length === 1 ? idempotencyKey : `${idempotencyKey}-${index + 1}`);
        if (result.outcome !== "sent") {
          return parts.length === 1
            ? result
            : { ...result, error: `part ${index + 1} of ${parts.length}: ${result.error}` };
        }
        if (result.providerId) ids.push(result.providerId);
      }
      return { outcome: "sent", providerId: ids.length > 0 ? ids.join(",") : null };

      async function send(to: string[], key: string): Promise<DeliveryResult> {
        const attempt = boundedSignal(signal, timeoutMs);
        let response;
        try {
          response = await resend.emails.send(
            { from: options.from, to, subject: email.subject, html: email.html, text: email.text },
            { idempotencyKey: key, signal: attempt.signal },
          );
        } catch (error) {
          // The SDK answers every failure with `error`; this is a safety net.
          return {
            outcome: "retry",
            error: `Resend could not be reached: ${quote(errorMessage(error))}`,
            retryAfterMs: null,
          };
        } finally {
          attempt.clear();
        }

        const { data, error, headers } = response;
        if (data) return { outcome: "sent", providerId: typeof data.id === "string" ? data.id : null };
        if (signal.aborted) return interrupted("Resend", signal);
        if (attempt.timedOut) {
          return {
            outcome: "retry",
            error: `Resend did not answer within ${seconds(timeoutMs)}`,
            retryAfterMs: null,
          };
        }
        // No headers: the request never got an answer (the SDK says "Unable to fetch data" and hides why).
        if (headers === null) {
          return {
            outcome: "retry",
            error: `Resend could not be reached at ${host} (connection refused, DNS or network error)`,
            retryAfterMs: null,
          };
        }
        const retryAfterMs = parseRetryAfter(headers["retry-after"], now());
        const status = typeof error?.statusCode === "number" ? error.statusCode : null;
        const name = typeof error?.name === "string" && error.name ? ` (${quote(error.name)})` : "";
        const message = error?.message ? `: ${quote(error.message)}` : "";
        if (status === null) {
          // An error body without Resend's statusCode (a proxy's?): the status is unknown, so try again.
          return { outcome: "retry", error: `Resend answered an error${name}${message}`, retryAfterMs };
        }
        const text = `Resend answered ${status}${name}${message}`;
        if (
          status === 429 || status >= 500 ||
          (status === 409 && error?.name === "concurrent_idempotent_requests")
        ) {
          return { outcome: "retry", error: text, retryAfterMs };
        }
        return { outcome: "failed", error: text };
      }
    },
  };
}

export interface WebhookChannelOptions {
  /** The webhook's URL: a secret (Slack's carries its token), never shown or logged. */
  url: string;
  appUrl: string;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * POSTs the alert as JSON (with Slack's `text` when the URL is a Slack
 * incoming webhook). Errors name only the host. Redirects are not followed:
 * a redirected POST would arrive as a GET, so a 3xx is reported instead.
 */
export function createWebhookChannel(options: WebhookChannelOptions): AlertChannel {
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    throw new TypeError("the alert webhook URL is not a valid URL");
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new TypeError("the alert webhook URL must be http: or https:");
  }
  const slack = isSlackWebhook(options.url);
  const label = `Webhook ${target.host}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const secrets = [options.url, target.href, `${target.pathname}${target.search}`, target.search]
    .filter((secret) => secret.length > 1);
  const quote = (text: unknown) => quoted(text, secrets);

  return {
    name: "webhook",
    async deliver(alert, _recipients, idempotencyKey, signal): Promise<DeliveryResult> {
      let body: string;
      try {
        body = JSON.stringify(renderWebhookPayload(alert, options.appUrl, { slack }));
      } catch (error) {
        return {
          outcome: "failed",
          error: `the webhook payload could not be rendered: ${quote(errorMessage(error))}`,
        };
      }
      const attempt = boundedSignal(signal, timeoutMs);
      try {
        const response = await fetch(target, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotencyKey,
            "User-Agent": "Jobwatch",
          },
          body,
          redirect: "manual",
          signal: attempt.signal,
        });
        const status = response.status;
        if (status >= 200 && status < 300) {
          await response.body?.cancel().catch(() => {});
          return { outcome: "sent", providerId: null };
        }
        const snippet = await readSnippet(response);
        const text = `${label} answered ${status}${snippet ? `: ${quote(snippet)}` : ""}`;
        if (status === 429 || status >= 500) {
          return {
            outcome: "retry",
            error: text,
            retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), now()),
          };
        }
        return { outcome: "failed", error: text };
      } catch (error) {
        if (signal.aborted) return interrupted(label, signal);
        if (attempt.timedOut) {
          return {
            outcome: "retry",
            error: `${label} did not answer within ${seconds(timeoutMs)}`,
            retryAfterMs: null,
          };
        }
        // Deno's fetch errors quote the whole URL; quote() leaves only the host.
        return {
          outcome: "retry",
          error: `${label} could not be reached: ${quote(errorMessage(error))}`,
          retryAfterMs: null,
        };
      } finally {
        attempt.clear();
      }
    },
  };
}

/**
 * A Retry-After header in milliseconds: delay-seconds, or an HTTP date
 * (IMF-fixdate, RFC 850 or asctime) counted from `now`, never negative.
 * Null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  let date: number;
  if (IMF_FIXDATE.test(text) || RFC_850.test(text)) date = Date.parse(text);
  else if (ASCTIME.test(text)) date = Date.parse(`${text} GMT`);
  else return null;
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC_850 = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
// Sun Nov  6 08:49:37 1994
const ASCTIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/** The caller's signal bounded by a timeout; clear() stops the timer. */
function boundedSignal(outer: AbortSignal, timeoutMs: number) {
  const controller = new AbortController();
  const state = { timedOut: false };
  const onAbort = () => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => {
    state.timedOut = true;
    controller.abort(new DOMException(`no answer within ${seconds(timeoutMs)}`, "TimeoutError"));
  }, timeoutMs);
  return {
    signal: controller.signal,
    get timedOut() {
      return state.timedOut;
    },
    clear() {
      clearTimeout(timer);
      outer.removeEventListener("abort", onAbort);
    },
  };
}

function interrupted(who: string, signal: AbortSignal): DeliveryResult {
  const reason = signal.reason instanceof Error && signal.reason.message ? `: ${signal.reason.message}` : "";
  return { outcome: "retry", error: `${who}: delivery interrupted${singleLine(reason)}`, retryAfterMs: null };
}

/** The start of an error response's body, for the outbox's last_error; the rest is discarded. */
async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < 1024) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body that breaks off: report the status alone.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes.subarray(0, 1024));
}

/** A provider's text made safe to store: one line, short, without the given secrets. */
function quoted(text: unknown, secrets: string[]): string {
  let line = singleLine(String(text ?? ""));
  for (const secret of secrets) {
    if (secret) line = line.replaceAll(secret, "…");
  }
  // Any other URL keeps only its origin: a path or query may hold a token.
  line = line.replace(/\bhttps?:\/\/[^\s()<>"']+/gi, (url) => {
    try {
      return new URL(url).origin;
    } catch {
      return "…";
    }
  });
  return line.length > MAX_QUOTED_CHARS ? `${headText(line, MAX_QUOTED_CHARS - 1)}…` : line;
}

/** An error's message with its causes' ("fetch failed: … Connection refused"). */
function errorMessage(error: unknown): string {
  const messages: string[] = [];
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 4; depth++) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (message && !messages.includes(message)) messages.push(message);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return messages.join(": ");
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "its API";
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
