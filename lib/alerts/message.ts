/**
 * An alert's messages: the e-mail (HTML and plain text) and the webhook's
 * JSON. Pure: the output depends only on the alert and the app's URL, so a
 * resend after a crash carries the same payload under the same idempotency key.
 */
import { formatDuration, formatExactUtc } from "../format.ts";
import { headText } from "../text.ts";
import { ALERT_KIND_LABELS, alertSubject, alertSummary, singleLine } from "./describe.ts";
import { type AlertKind, type AlertRecord, MAX_ALERT_ERROR_CHARS } from "./types.ts";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

const TRUNCATED = "… (truncated)";

/** Where an alert points: its execution, or its job when no run raised it. */
export function alertUrl(alert: AlertRecord, appUrl: string): string {
  const origin = appUrl.replace(/\/+$/, "");
  return alert.executionId
    ? `${origin}/admin/executions/${encodeURIComponent(alert.executionId)}`
    : `${origin}/admin/jobs/${encodeURIComponent(alert.jobId)}`;
}

/** The alert e-mail: subject, an inline-styled HTML body and its plain-text alternative. */
export function renderEmail(alert: AlertRecord, appUrl: string): RenderedEmail {
  const subject = alertSubject(alert);
  const summary = alertSummary(alert);
  const facts = alertFacts(alert);
  const error = errorText(alert);
  const url = alertUrl(alert, appUrl);
  return {
    subject,
    html: emailHtml({ kind: alert.kind, subject, summary, facts, error, url }),
    text: [
      summary,
      "",
      ...facts.map(([label, value]) => `${label}: ${value}`),
      ...(error === null ? [] : ["", "Error:", error]),
      "",
      `Open in Jobwatch: ${url}`,
      "",
    ].join("\n"),
  };
}

/**
 * The webhook's JSON body. For a Slack incoming webhook (`slack`), it also
 * carries `text`, the message Slack shows, in Slack's mrkdwn.
 */
export function renderWebhookPayload(
  alert: AlertRecord,
  appUrl: string,
  options: { slack: boolean },
): Record<string, unknown> {
  const subject = alertSubject(alert);
  const summary = alertSummary(alert);
  const url = alertUrl(alert, appUrl);
  const payload: Record<string, unknown> = {
    event: "jobwatch.alert",
    id: alert.id,
    kind: alert.kind,
    subject,
    summary,
    job: { id: alert.jobId, name: alert.jobName },
    executionId: alert.executionId,
    details: alert.details,
    url,
    createdAt: alert.createdAt.toISOString(),
  };
  if (options.slack) {
    const error = errorText(alert);
    payload.text = [
      `*${slackEscape(subject)}*`,
      slackEscape(summary),
      ...(error === null ? [] : ["```\n" + slackEscape(error).replace(/`(?=`)/g, "`\u200b") + "\n```"]),
      `<${slackEscape(url)}|Open in Jobwatch>`,
    ].join("\n");
  }
  return payload;
}

/** Whether a webhook URL is a Slack incoming webhook (so the payload gets Slack's `text`). */
export function isSlackWebhook(url: string): boolean {
  try {
    return new URL(url).hostname.toLowerCase() === "hooks.slack.com";
  } catch {
    return false;
  }
}

/** Text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Slack reads &, < and > as control characters in any text. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The alert's facts as label and plain-text value, in the order the e-mail shows them. */
function alertFacts(alert: AlertRecord): [label: string, value: string][] {
  const { details } = alert;
  const facts: [string, string][] = [
    ["Job", `${singleLine(alert.jobName)} (${singleLine(alert.jobId)})`],
    ["Kind", ALERT_KIND_LABELS[alert.kind] ?? alert.kind],
  ];
  const add = (label: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined && value !== "") facts.push([label, singleLine(value)]);
  };
  const duration = (ms: number | null | undefined) => (typeof ms === "number" ? formatDuration(ms) : null);

  add("Execution", alert.executionId);
  add("Period", details.periodKey);
  add("Trigger", details.trigger);
  add("Started", exactTime(details.startedAt));
  add("Completed", exactTime(details.completedAt));
  add("Duration", duration(details.durationMs));
  if (typeof details.consecutiveFailures === "number") {
    add(alert.kind === "recovery" ? "Failed runs" : "Failures in a row", String(details.consecutiveFailures));
  }
  add("Failing since", exactTime(details.failingSince));
  add("Down for", duration(details.downForMs));
  if (details.warning && typeof details.limitMs === "number") {
    add(
      details.warning === "fast" ? "Expected at least" : "Expected at most",
      formatDuration(details.limitMs),
    );
  }
  add("Expected by", exactTime(details.expectedBy));
  if (details.lastStartedAt !== undefined) add("Last started", exactTime(details.lastStartedAt) ?? "never");
  add("Overdue for", duration(details.overdueForMs));
  add("Raised", exactTime(alert.createdAt));
  return facts;
}

/** The run's error, cut to MAX_ALERT_ERROR_CHARS with a note when cut; null when there is none. */
function errorText(alert: AlertRecord): string | null {
  const error = alert.details.errorMessage;
  if (typeof error !== "string" || error.trim() === "") return null;
  if (error.length <= MAX_ALERT_ERROR_CHARS) return headText(error, MAX_ALERT_ERROR_CHARS);
  return `${headText(error, MAX_ALERT_ERROR_CHARS - TRUNCATED.length - 1)}\n${TRUNCATED}`;
}

/** formatExactUtc that shows an unreadable stored time as it is instead of throwing. */
function exactTime(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "string" ? new Date(value) : value;
  return Number.isNaN(date.getTime()) ? String(value) : formatExactUtc(date);
}

const ACCENTS: Record<AlertKind, string> = {
  failure: "#c0392b",
  reminder: "#c0392b",
  overdue: "#c0392b",
  warning: "#b7791f",
  recovery: "#2f855a",
  back_on_schedule: "#2f855a",
};

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,monospace";

function emailHtml(parts: {
  kind: AlertKind;
  subject: string;
  summary: string;
  facts: [string, string][];
  error: string | null;
  url: string;
}): string {
  const accent = ACCENTS[parts.kind] ?? ACCENTS.failure;
  const label = ALERT_KIND_LABELS[parts.kind] ?? parts.kind;
  const rows = parts.facts.map(([name, value]) =>
    `<tr>` +
    `<td style="width:1%;padding:6px 20px 6px 0;color:#5f6b7a;font-size:13px;white-space:nowrap;vertical-align:top;">` +
    `${escapeHtml(name)}</td>` +
    `<td style="padding:6px 0;color:#1f2430;font-size:14px;word-break:break-word;">${
      escapeHtml(value)
    }</td>` +
    `</tr>`
  ).join("\n");
  const error = parts.error === null ? "" : `
<tr><td style="padding:8px 28px 0;">
<p style="margin:0 0 6px;color:#5f6b7a;font-size:13px;">Error</p>
<pre style="margin:0;padding:12px;background:#fdf2f2;border:1px solid #f5c6c6;border-radius:6px;color:#9b1c1c;font-family:${MONO};font-size:12px;line-height:1.5;white-space:pre-wrap;word-break:break-word;">${
    escapeHtml(parts.error)
  }</pre>
</td></tr>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(parts.subject)}</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f5f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background:#ffffff;border:1px solid #e2e5ea;border-top:4px solid ${accent};border-radius:8px;font-family:${FONT};color:#1f2430;">
<tr><td style="padding:24px 28px 4px;">
<p style="margin:0 0 8px;color:${accent};font-size:12px;font-weight:600;letter-spacing:0.04em;text-transform:uppercase;">${
    escapeHtml(label)
  }</p>
<h1 style="margin:0;font-size:20px;line-height:1.35;font-weight:600;">${escapeHtml(parts.summary)}</h1>
</td></tr>
<tr><td style="padding:12px 28px 0;">
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;">
${rows}
</table>
</td></tr>${error}
<tr><td style="padding:24px 28px 28px;">
<a href="${
    escapeHtml(parts.url)
  }" style="display:inline-block;padding:10px 18px;background:#1f2430;border-radius:6px;color:#ffffff;font-size:14px;font-weight:600;text-decoration:none;">Open in Jobwatch</a>
</td></tr>
</table>
<p style="margin:16px 0 0;color:#8a94a3;font-family:${FONT};font-size:12px;">Sent by Jobwatch.</p>
</td></tr>
</table>
</body>
</html>
`;
}
