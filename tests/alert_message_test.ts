import assert from "node:assert/strict";
import { isSlackWebhook, renderEmail, renderWebhookPayload } from "../lib/alerts/message.ts";
import { type AlertRecord, MAX_ALERT_ERROR_CHARS } from "../lib/alerts/types.ts";
import { ALERT_EXECUTION_ID, makeAlertRecord } from "./helpers/fixtures.ts";

const APP_URL = "https://jobwatch.example.com";
const EXECUTION_ID = ALERT_EXECUTION_ID;
const makeAlert = makeAlertRecord;

function withError(errorMessage: string): AlertRecord {
  const alert = makeAlert();
  return { ...alert, details: { ...alert.details, errorMessage } };
}

Deno.test("the e-mail's subject names the job and what happened", () => {
  assert.equal(renderEmail(makeAlert(), APP_URL).subject, "Job failed: Weekly Digest Email");
  const third = makeAlert({ details: { ...makeAlert().details, consecutiveFailures: 3 } });
  assert.equal(renderEmail(third, APP_URL).subject, "Job failed: Weekly Digest Email (3 in a row)");
});

Deno.test("the e-mail lists the run's facts in HTML and in plain text", () => {
  const { html, text } = renderEmail(makeAlert(), APP_URL);
  for (const fact of ["weekly-digest", EXECUTION_ID, "scheduled", "2027-03-01 09:00:00 UTC", "12.4 s"]) {
    assert.ok(html.includes(fact), `HTML lacks ${fact}`);
    assert.ok(text.includes(fact), `text lacks ${fact}`);
  }
  assert.match(text, /^Started: 2027-03-01 09:00:00 UTC$/m);
  assert.match(text, /^Failures in a row: 1$/m);
  assert.match(html, /<pre[^>]*>SMTP connection refused<\/pre>/);
});

Deno.test("an error that closes the <pre> and opens a script is escaped in the HTML", () => {
  const { html } = renderEmail(withError("</pre><script>alert(1)</script>"), APP_URL);
  assert.ok(!html.includes("<script>"), "the raw script tag reached the HTML");
  assert.ok(html.includes("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
});

Deno.test("a job name with markup and quotes is escaped everywhere in the HTML", () => {
  const name = `<b>Bold</b> "quoted" & 'single'`;
  const { html } = renderEmail(makeAlert({ jobName: name, jobId: `id"><img src=x>` }), APP_URL);
  assert.ok(!html.includes("<b>"));
  assert.ok(!html.includes(`"quoted"`));
  assert.ok(!html.includes("<img"));
  assert.ok(html.includes("&lt;b&gt;Bold&lt;/b&gt; &quot;quoted&quot; &amp; &#39;single&#39;"));
});

Deno.test("the link's href is escaped as an attribute value", () => {
  const { html } = renderEmail(makeAlert(), `https://jobwatch.example.com/a"onmouseover="x`);
  assert.ok(!html.includes(`"onmouseover="`));
  assert.ok(html.includes(`href="https://jobwatch.example.com/a&quot;onmouseover=&quot;x/admin/executions/`));
});

Deno.test("the plain-text alternative links to the execution", () => {
  const { text, html } = renderEmail(makeAlert(), APP_URL);
  assert.ok(text.includes(`Open in Jobwatch: ${APP_URL}/admin/executions/${EXECUTION_ID}`));
  assert.ok(html.includes(`href="${APP_URL}/admin/executions/${EXECUTION_ID}"`));
  assert.ok(text.includes("Error:\nSMTP connection refused"));
});

Deno.test("an alert without an execution links to its job", () => {
  const overdue = makeAlert({
    kind: "overdue",
    jobId: "nightly backup/eu",
    executionId: null,
    details: { expectedBy: "2027-03-01T02:05:00Z", lastStartedAt: null },
  });
  const { text } = renderEmail(overdue, APP_URL);
  assert.ok(text.includes(`${APP_URL}/admin/jobs/nightly%20backup%2Feu`));
  assert.match(text, /^Last started: never$/m);
  assert.ok(!text.includes("Error:"));
});

Deno.test("an error longer than the limit is cut and says so", () => {
  const long = "x".repeat(MAX_ALERT_ERROR_CHARS * 2);
  const { html, text } = renderEmail(withError(long), APP_URL);
  assert.ok(text.includes("… (truncated)"));
  assert.ok(html.includes("… (truncated)"));
  const quoted = text.slice(text.indexOf("Error:\n") + 7, text.indexOf("\n\nOpen in Jobwatch"));
  assert.ok(quoted.length <= MAX_ALERT_ERROR_CHARS, `the error kept ${quoted.length} characters`);
  assert.ok(!text.includes("x".repeat(MAX_ALERT_ERROR_CHARS)));
});

Deno.test("a job name with CR LF cannot add an e-mail header through the subject", () => {
  const { subject } = renderEmail(makeAlert({ jobName: "Digest\r\nBcc: x@evil.example" }), APP_URL);
  assert.equal(subject, "Job failed: Digest Bcc: x@evil.example");
  assert.ok(!/[\r\n]/.test(subject));
});

Deno.test("the Slack text escapes Slack's control characters and cannot close the code block", () => {
  const alert = makeAlert({
    jobName: "A <!channel> & B",
    details: { ...makeAlert().details, errorMessage: "boom\n```\n<@U123> & more" },
  });
  const text = renderWebhookPayload(alert, APP_URL, { slack: true }).text;
  assert.equal(typeof text, "string");
  const message = text as string;
  assert.ok(message.startsWith("*Job failed: A &lt;!channel&gt; &amp; B*\n"));
  assert.ok(!message.includes("<!channel>"));
  assert.ok(!message.includes("<@U123>"));
  assert.ok(message.includes("&lt;@U123&gt; &amp; more"));
  // Exactly the opening and the closing fence.
  assert.equal(message.split("```").length - 1, 2);
  assert.ok(message.endsWith(`<${APP_URL}/admin/executions/${EXECUTION_ID}|Open in Jobwatch>`));
});

Deno.test("the webhook payload carries the alert's facts, and `text` only for Slack", () => {
  const alert = makeAlert();
  const payload = renderWebhookPayload(alert, APP_URL, { slack: false });
  assert.deepEqual(payload, {
    event: "jobwatch.alert",
    id: "42",
    kind: "failure",
    subject: "Job failed: Weekly Digest Email",
    summary: "Weekly Digest Email failed.",
    job: { id: "weekly-digest", name: "Weekly Digest Email" },
    executionId: EXECUTION_ID,
    details: alert.details,
    url: `${APP_URL}/admin/executions/${EXECUTION_ID}`,
    createdAt: "2027-03-01T09:00:13.000Z",
  });
  assert.ok(!("text" in payload));
});

Deno.test("only hooks.slack.com is a Slack webhook", () => {
  assert.equal(isSlackWebhook("https://hooks.slack.com/services/T0/B0/secret"), true);
  assert.equal(isSlackWebhook("https://HOOKS.SLACK.COM/services/T0/B0/secret"), true);
  assert.equal(isSlackWebhook("https://hooks.slack.com.evil.example/services/x"), false);
  assert.equal(isSlackWebhook("https://example.com/hooks.slack.com"), false);
  assert.equal(isSlackWebhook("not a url"), false);
});

Deno.test("rendering the same alert twice gives identical output", () => {
  const first = {
    email: renderEmail(makeAlert(), APP_URL),
    hook: renderWebhookPayload(makeAlert(), APP_URL, { slack: true }),
  };
  const second = {
    email: renderEmail(makeAlert(), APP_URL),
    hook: renderWebhookPayload(makeAlert(), APP_URL, { slack: true }),
  };
  assert.deepEqual(second, first);
  assert.equal(JSON.stringify(second.hook), JSON.stringify(first.hook));
});

Deno.test("every kind of alert renders without throwing", () => {
  const kinds: AlertRecord[] = [
    makeAlert({
      kind: "reminder",
      details: { consecutiveFailures: 4, failingSince: "2027-03-01T06:00:00Z" },
    }),
    makeAlert({
      kind: "recovery",
      details: { consecutiveFailures: 4, failingSince: "2027-03-01T06:00:00Z", downForMs: 11_400_000 },
    }),
    makeAlert({ kind: "warning", details: { warning: "slow", limitMs: 60_000, durationMs: 125_000 } }),
    makeAlert({ kind: "back_on_schedule", executionId: null, details: { overdueForMs: 600_000 } }),
    makeAlert({ details: { startedAt: "not a date" } }),
  ];
  for (const alert of kinds) {
    const { subject, text } = renderEmail(alert, APP_URL);
    assert.ok(subject.length > 0);
    assert.ok(text.includes("Open in Jobwatch: "));
  }
  const recovery = renderEmail(kinds[1], APP_URL).text;
  assert.match(recovery, /^Down for: 3 h 10 min$/m);
  assert.match(recovery, /^Failed runs: 4$/m);
});
