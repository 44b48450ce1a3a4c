/**
 * Hostile input for the route-table walk (tests/hostile_input_test.ts): path
 * segments and query values as raw URL text, and request bodies. Each value
 * is something a client can really send; together they cover SQL
 * metacharacters, invalid UTF-8, NUL, huge and negative numbers, unknown enum
 * values, impossible dates, forged cursors and oversized or malformed bodies.
 */
import { encodeCursor, HistoryQuerySchema } from "../../lib/history.ts";

const MB = 1024 * 1024;

/** Path segments and query values, as raw URL text (some are deliberately not valid percent-encoding). */
export const HOSTILE_TEXT = [
  "'; DROP TABLE job_executions; --",
  '" OR 1=1 --',
  "%' OR '1'='1",
  "$1",
  "\\",
  "null",
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "x".repeat(5000),
  "💥",
  "\u202e",
  "-1",
  "0",
  "1.5",
  "0x10",
  "1e309",
  "NaN",
  "Infinity",
  "99999999999999999999999999",
  "exploded",
  "RUNNING",
  "running,failed",
  "2027-13-45T25:61:00Z",
  "0000-01-01T00:00:00Z",
  "+275760-09-13T00:00:00Z",
  "00000000-0000-0000-0000-000000000000",
].map(encodeURIComponent).concat([
  "", // empty
  "a%00b", // NUL
  "%C3%28", // invalid UTF-8
  "%FF%FE",
  "%ED%A0%80", // an encoded lone surrogate
  "%E2%82", // a truncated sequence
  "%", // a broken escape
  "%2e%2e%2f%2e%2e",
  "AAAA", // a forged cursor: base64 of garbage
  base64Url('{"s":"2027-01-01T00:00:00Z","i":"\' OR 1=1 --"}'),
  base64Url('{"s":"0000-00-00T00:00:00Z","i":"1"}'),
  base64Url('{"s":"2027-01-01T00:00:00Z","i":"1","x":1}'),
  encodeCursor({ startedAt: "9999-12-31T23:59:59.999999Z", id: "00000000-0000-4000-8000-000000000000" }),
  encodeCursor({ startedAt: "2027-01-01T00:00:00Z", id: "999999999999999999" }),
]);

/** A smaller set for the per-parameter pass (every value is also sent under every name at once). */
export const SHARP_TEXT = [
  "'; DROP TABLE job_executions; --",
  "-1",
  "1e309",
  "99999999999999999999999999",
  "exploded",
  "2027-13-45T25:61:00Z",
].map(encodeURIComponent).concat([
  "%C3%28",
  "%",
  "AAAA",
  base64Url('{"s":"2027-01-01T00:00:00Z","i":"1","x":1}'),
]);

/** Every query parameter a route reads, plus the history filters (whatever they become). */
export const QUERY_NAMES = [
  ...new Set([...Object.keys(HistoryQuerySchema.shape), "job", "ids", "next", "token", "state", "jobId"]),
];

/** Base64url without padding, as page cursors are written: for forging them. */
export function base64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Field names the write routes read, each set to the same hostile value. */
const BODY_FIELDS = [
  "enabled",
  "status",
  "startedAt",
  "durationMs",
  "result",
  "error",
  "exitCode",
  "log",
  "periodKey",
  "executionId",
  "metadata",
  "label",
  "until",
  "duration",
  "email",
  "password",
  "next",
];

export interface BodyCase {
  label: string;
  contentType?: string;
  body: () => BodyInit;
}

const fields = (value: unknown) => Object.fromEntries(BODY_FIELDS.map((name) => [name, value]));
const json = (label: string, text: string): BodyCase => ({
  label,
  contentType: "application/json",
  body: () => text,
});

export const BODIES: BodyCase[] = [
  json("a 10 MB JSON body", `{"result":"${"a".repeat(10 * MB)}"}`),
  {
    label: "a 10 MB body streamed without a length",
    contentType: "application/json",
    body: () => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 10 * MB) return controller.close();
          controller.enqueue(new Uint8Array(256 * 1024).fill(0x61));
          sent += 256 * 1024;
        },
      });
    },
  },
  {
    label: "invalid UTF-8 in JSON",
    contentType: "application/json",
    body: () => new Uint8Array([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
  },
  {
    label: "invalid UTF-8 in a form",
    contentType: "application/x-www-form-urlencoded",
    body: () => new Uint8Array([...new TextEncoder().encode("email=%FF&password="), 0xff, 0xc3, 0x28]),
  },
  json("malformed JSON", '{"enabled": tru'),
  json("JSON nested 100,000 deep", "[".repeat(100_000) + "]".repeat(100_000)),
  json("a JSON array", "[1, 2, 3]"),
  json("JSON null", "null"),
  json("a JSON string", '"enabled"'),
  json("an empty JSON body", ""),
  json("SQL metacharacters in every field", JSON.stringify(fields("'; DROP TABLE job_executions; --"))),
  json(
    "huge integers in every field",
    `{${BODY_FIELDS.map((name) => `"${name}": 123456789012345678901234567890`)}}`,
  ),
  json("1e400 in every field", `{${BODY_FIELDS.map((name) => `"${name}": 1e400`)}}`),
  json("negative numbers in every field", JSON.stringify(fields(-1))),
  json("NUL characters in every field", JSON.stringify(fields("a\u0000b"))),
  json("objects in every field", JSON.stringify(fields({ $gt: "" }))),
  json("a prototype key", '{"__proto__": {"admin": true}, "constructor": {"prototype": {}}}'),
  json("unknown enum values", JSON.stringify({ ...fields("exploded"), status: "exploded", enabled: "yes" })),
  {
    label: "hostile form fields",
    contentType: "application/x-www-form-urlencoded",
    body: () =>
      new URLSearchParams(fields("'; DROP TABLE job_executions; -- <script>") as Record<string, string>)
        .toString(),
  },
  { label: "a text/plain body", contentType: "text/plain", body: () => "enabled=false" },
  {
    label: "broken multipart",
    contentType: "multipart/form-data; boundary=x",
    body: () => '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nbroken',
  },
];
