import assert from "node:assert/strict";
import { createResendChannel, createWebhookChannel, parseRetryAfter } from "../lib/alerts/channels.ts";
import { isSlackWebhook, renderEmail, renderWebhookPayload } from "../lib/alerts/message.ts";
import type { AlertRecord, DeliveryResult } from "../lib/alerts/types.ts";
import { type FakeResend, startFakeResend } from "./helpers/fake_resend.ts";
import { makeAlertRecord } from "./helpers/fixtures.ts";

const APP_URL = "https://jobwatch.example.com";
const API_KEY = "re_test_5ecret_Key";
const FROM = "Jobwatch <alerts@example.com>";
const TO = ["ops@example.com", "oncall@example.com"];
const HOOK_PATH = "/services/T000/B000/s3cretToken?channel=ops";

const alert: AlertRecord = makeAlertRecord({ id: "7" });

async function withFake(fn: (fake: FakeResend) => Promise<void>): Promise<void> {
  const fake = await startFakeResend();
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

function resendChannel(fake: FakeResend, timeoutMs?: number) {
  return createResendChannel({ apiKey: API_KEY, baseUrl: fake.url, from: FROM, appUrl: APP_URL, timeoutMs });
}

function deliverEmail(fake: FakeResend, key = "alert-7-email", recipients = TO): Promise<DeliveryResult> {
  return resendChannel(fake).deliver(alert, recipients, key, new AbortController().signal);
}

/** A loopback port nothing listens on: opened, then closed. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function assertRetry(result: DeliveryResult): Extract<DeliveryResult, { outcome: "retry" }> {
  assert.equal(result.outcome, "retry", JSON.stringify(result));
  return result as Extract<DeliveryResult, { outcome: "retry" }>;
}

function assertFailed(result: DeliveryResult): Extract<DeliveryResult, { outcome: "failed" }> {
  assert.equal(result.outcome, "failed", JSON.stringify(result));
  return result as Extract<DeliveryResult, { outcome: "failed" }>;
}

Deno.test("the Resend channel sends the rendered e-mail with the idempotency key and the API key", () =>
  withFake(async (fake) => {
    const result = await deliverEmail(fake);

    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/emails");
    assert.equal(request.idempotencyKey, "alert-7-email");
    assert.equal(request.headers["authorization"], `Bearer ${API_KEY}`);
    const email = renderEmail(alert, APP_URL);
    const body = request.body as Record<string, unknown>;
    assert.equal(body.from, FROM);
    assert.deepEqual(body.to, TO);
    assert.equal(body.subject, "Job failed: Weekly Digest Email");
    assert.equal(body.html, email.html);
    assert.equal(body.text, email.text);
    assert.equal(result.outcome, "sent");
    assert.match(String(result.outcome === "sent" && result.providerId), /^[0-9a-f-]{36}$/);
    assert.equal(fake.delivered.length, 1);
  }));

Deno.test("a 200 is sent with Resend's id, and a resend of the same key is delivered once with the same id", () =>
  withFake(async (fake) => {
    fake.respondWith({ status: 200, body: { id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c" } });
    const first = await deliverEmail(fake);
    const again = await deliverEmail(fake);

    assert.deepEqual(first, { outcome: "sent", providerId: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c" });
    assert.deepEqual(again, first);
    assert.equal(fake.requests.length, 2);
    assert.equal(fake.delivered.length, 1);
  }));

Deno.test("a 500 from Resend is retried", () =>
  withFake(async (fake) => {
    fake.respondWith({
      status: 500,
      body: { statusCode: 500, name: "internal_server_error", message: "Boom" },
    });
    const result = assertRetry(await deliverEmail(fake));
    assert.equal(result.error, "Resend answered 500 (internal_server_error): Boom");
    assert.equal(result.retryAfterMs, null);
    assert.equal(fake.delivered.length, 0);
  }));

Deno.test("a 429 is retried after Resend's retry-after", () =>
  withFake(async (fake) => {
    fake.respondWith({ status: 429, headers: { "retry-after": "7" } });
    const result = assertRetry(await deliverEmail(fake));
    assert.equal(result.retryAfterMs, 7000);
    assert.match(result.error, /^Resend answered 429/);
  }));

Deno.test("a 422 fails for good", () =>
  withFake(async (fake) => {
    fake.respondWith({
      status: 422,
      body: { statusCode: 422, name: "validation_error", message: "Invalid `to` field." },
    });
    const result = assertFailed(await deliverEmail(fake));
    assert.equal(result.error, "Resend answered 422 (validation_error): Invalid `to` field.");
  }));

Deno.test("a concurrent request with the same idempotency key is retried, a conflicting one fails", () =>
  withFake(async (fake) => {
    fake.respondWith(
      {
        status: 409,
        body: { statusCode: 409, name: "concurrent_idempotent_requests", message: "in progress" },
      },
      {
        status: 409,
        body: { statusCode: 409, name: "invalid_idempotent_request", message: "other payload" },
      },
    );
    assertRetry(await deliverEmail(fake));
    assertFailed(await deliverEmail(fake));
  }));

Deno.test("an unreachable Resend is retried, and the error does not show the API key", async () => {
  const channel = createResendChannel({
    apiKey: API_KEY,
    baseUrl: `http://127.0.0.1:${closedPort()}`,
    from: FROM,
    appUrl: APP_URL,
  });
  const result = assertRetry(await channel.deliver(alert, TO, "k", new AbortController().signal));
  assert.match(result.error, /^Resend could not be reached at 127\.0\.0\.1:\d+/);
  assert.ok(!result.error.includes(API_KEY));
});

Deno.test("a Resend that does not answer in time is retried", () =>
  withFake(async (fake) => {
    const { promise: release, resolve } = Promise.withResolvers<void>();
    fake.respondWith({ hold: release });
    try {
      const result = assertRetry(
        await resendChannel(fake, 200).deliver(alert, TO, "k", new AbortController().signal),
      );
      assert.equal(result.error, "Resend did not answer within 200 ms");
    } finally {
      resolve();
    }
  }));

Deno.test("closing the fake answers a held request at once", () =>
  withFake(async (fake) => {
    fake.respondWith({ hold: new Promise(() => {}) });
    const delivery = deliverEmail(fake);
    await fake.waitForRequests(1);
    await fake.close();
    const result = assertRetry(await delivery);
    assert.match(result.error, /^Resend answered 503/);
  }));

Deno.test("an e-mail without recipients fails without calling Resend", () =>
  withFake(async (fake) => {
    assert.deepEqual(await deliverEmail(fake, "k", []), { outcome: "failed", error: "no recipients" });
    assert.equal(fake.requests.length, 0);
  }));

function hookChannel(fake: FakeResend) {
  return createWebhookChannel({ url: `${fake.url}${HOOK_PATH}`, appUrl: APP_URL });
}

function deliverHook(fake: FakeResend): Promise<DeliveryResult> {
  return hookChannel(fake).deliver(alert, [], "alert-7-webhook", new AbortController().signal);
}

Deno.test("the webhook channel posts the alert as JSON with the idempotency key", () =>
  withFake(async (fake) => {
    const result = await deliverHook(fake);

    assert.deepEqual(result, { outcome: "sent", providerId: null });
    const [request] = fake.requests;
    assert.equal(request.method, "POST");
    assert.equal(request.path, HOOK_PATH);
    assert.equal(request.idempotencyKey, "alert-7-webhook");
    assert.equal(request.headers["content-type"], "application/json");
    assert.equal(request.headers["user-agent"], "Jobwatch");
    assert.deepEqual(
      request.body,
      JSON.parse(JSON.stringify(renderWebhookPayload(alert, APP_URL, { slack: false }))),
    );
    assert.equal((request.body as Record<string, unknown>).text, undefined);
  }));

Deno.test("a Slack webhook URL gets Slack's text", () => {
  const url = "https://hooks.slack.com/services/T000/B000/XXXX";
  assert.equal(isSlackWebhook(url), true);
  const payload = renderWebhookPayload(alert, APP_URL, { slack: isSlackWebhook(url) });
  assert.equal(
    payload.text,
    "*Job failed: Weekly Digest Email*\nWeekly Digest Email failed.\n```\nSMTP connection refused\n```\n" +
      `<${APP_URL}/admin/executions/${alert.executionId}|Open in Jobwatch>`,
  );
});

Deno.test("a webhook answering 503 is retried, honouring retry-after", () =>
  withFake(async (fake) => {
    fake.respondWith({ status: 503, headers: { "retry-after": "30" }, body: "overloaded" });
    const result = assertRetry(await deliverHook(fake));
    assert.equal(result.retryAfterMs, 30_000);
    assert.match(result.error, /^Webhook 127\.0\.0\.1:\d+ answered 503: overloaded$/);
  }));

Deno.test("a webhook answering 404 fails, and the error names the host but not the secret path", () =>
  withFake(async (fake) => {
    fake.respondWith({ status: 404, body: { error: "no_service", path: HOOK_PATH } });
    const result = assertFailed(await deliverHook(fake));
    assert.match(result.error, /^Webhook 127\.0\.0\.1:\d+ answered 404/);
    assert.ok(!result.error.includes("s3cretToken"), result.error);
    assert.ok(!result.error.includes("/services/"), result.error);
  }));

Deno.test("an unreachable webhook is retried, and the error does not show the URL's path or query", async () => {
  const port = closedPort();
  const channel = createWebhookChannel({ url: `http://127.0.0.1:${port}${HOOK_PATH}`, appUrl: APP_URL });
  const result = assertRetry(await channel.deliver(alert, [], "k", new AbortController().signal));
  assert.ok(result.error.startsWith(`Webhook 127.0.0.1:${port} could not be reached`), result.error);
  assert.ok(!result.error.includes("s3cretToken"), result.error);
  assert.ok(!result.error.includes("channel=ops"), result.error);
});

Deno.test("parseRetryAfter reads seconds and HTTP dates, and ignores anything else", () => {
  const now = new Date("2027-03-01T09:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Mon, 01 Mar 2027 09:01:30 GMT", now), 90_000);
  assert.equal(parseRetryAfter("Monday, 01-Mar-27 09:00:10 GMT", now), 10_000);
  assert.equal(parseRetryAfter("Mon Mar  1 09:00:05 2027", now), 5000);
  assert.equal(parseRetryAfter("Sun, 28 Feb 2027 09:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter("-5", now), null);
  assert.equal(parseRetryAfter("1.5", now), null);
  assert.equal(parseRetryAfter("", now), null);
  assert.equal(parseRetryAfter(null, now), null);
  assert.equal(parseRetryAfter(undefined, now), null);
});

Deno.test("more than 50 recipients go out in parts of at most 50, each with its own key; a retry repeats them", () =>
  withFake(async (fake) => {
    const many = Array.from({ length: 120 }, (_, i) => `person${i}@example.com`);
    fake.respondWith({ status: 200 }, { status: 500 });
    const first = assertRetry(await deliverEmail(fake, "alert-9", many));
    assert.match(first.error, /^part 2 of 3: Resend answered 500/);
    const sent = await deliverEmail(fake, "alert-9", many);
    assert.equal(sent.outcome, "sent");
    const sizes = fake.requests.map((r) => [r.idempotencyKey, (r.body as { to: string[] }).to.length]);
    assert.deepEqual(sizes, [
      ["alert-9-1", 50],
      ["alert-9-2", 50],
      ["alert-9-1", 50],
      ["alert-9-2", 50],
      ["alert-9-3", 20],
    ]);
    assert.equal(fake.delivered.length, 3, "Resend drops the repeated first part");
    assert.deepEqual(fake.delivered.flatMap((r) => (r.body as { to: string[] }).to), many);
  }));
