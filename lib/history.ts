/**
 * The execution history's contract, shared by the pages, the JSON API, the
 * queries and the history island: the filter schema (the query string),
 * the page cursor, and the plain-JSON shapes of a row and of one execution.
 * Pure: no I/O, safe to bundle into an island.
 */
import { z } from "zod";
import type { ExecutionStatus } from "./events.ts";
import type { Trigger } from "./jobs/define.ts";

export const EXECUTION_STATUSES = ["running", "completed", "failed", "skipped"] as const;
export const TRIGGERS = ["scheduled", "manual", "external"] as const;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

/** A history row: what the list shows and what the island needs. Dates are ISO strings. */
export interface ExecutionRow {
  id: string;
  jobId: string;
  jobName: string;
  status: ExecutionStatus;
  trigger: Trigger;
  /** The name of the user who ran it by hand (null for scheduled/external or a deleted user). */
  triggeredByName: string | null;
  periodKey: string;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  retryOf: string | null;
}

/** One execution in full, for the expanded row and the permalink page. */
export interface ExecutionDetail extends ExecutionRow {
  /** The run's own id: an AWS request id for external runs, else a random UUID. */
  executionId: string;
  result: unknown;
  errorMessage: string | null;
  metadata: Record<string, unknown> | null;
  exitCode: number | null;
  log: string | null;
  /** Runs started as retries of this one, oldest first. */
  retriedAs: string[];
}

/** How many rows match: exact up to a cap, estimated by the planner above it. */
export interface HistoryTotal {
  value: number;
  estimated: boolean;
}

export interface HistoryPage {
  executions: ExecutionRow[];
  /** Older rows: pass as `after`. Null on the last page. */
  nextCursor: string | null;
  /** Newer rows: pass as `before`. Null on the first page. */
  prevCursor: string | null;
  total: HistoryTotal;
}

/**
 * A position in a list ordered by (time, id) descending: the time of a row
 * with microseconds (as PostgreSQL keeps it) and its id, a UUID for
 * executions and a serial number for audit events.
 */
export interface Cursor {
  startedAt: string;
  id: string;
}

const ID_PATTERNS = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  serial: /^[1-9][0-9]{0,17}$/,
} as const;

/** Instants PostgreSQL's timestamptz stores and JavaScript writes as a four-digit year: 0001 to 9999. */
// Date.UTC reads years 0-99 as 1900-1999, so year 1 is set explicitly.
const EARLIEST_MS = new Date("0001-01-01T00:00:00Z").getTime();
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function isStorableInstant(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS;
}

const CursorShape = z.object({
  s: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/)
    .refine((text) => isStorableInstant(Date.parse(text))),
  i: z.string(),
}).strict();

/** Encodes a cursor as an opaque URL-safe string. */
export function encodeCursor(cursor: Cursor): string {
  const json = JSON.stringify({ s: cursor.startedAt, i: cursor.id });
  return btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes a cursor; null when it is not one this code made (for ids of this kind). */
export function decodeCursor(text: string, idKind: keyof typeof ID_PATTERNS = "uuid"): Cursor | null {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const json = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed = CursorShape.safeParse(JSON.parse(json));
    if (!parsed.success || !ID_PATTERNS[idKind].test(parsed.data.i)) return null;
    return { startedAt: parsed.data.s, id: parsed.data.i };
  } catch {
    return null;
  }
}

/** A query parameter holding a cursor, checked for ids of `idKind`. */
export const cursorParam = (idKind: keyof typeof ID_PATTERNS = "uuid") =>
  z.string().transform((text, ctx) => {
    const cursor = decodeCursor(text, idKind);
    if (!cursor) {
      ctx.addIssue({
        code: "custom",
        message: "is not a valid page cursor; start again from the first page",
      });
      return z.NEVER;
    }
    return cursor;
  });

/** ISO 8601 with a zone offset or Z; without one (as a datetime-local field sends it) it is read as UTC. */
const instant = z.iso.datetime({ offset: true, local: true, error: "must be an ISO date and time" })
  .transform((text) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`))
  .refine((date) => isStorableInstant(date.getTime()), "must be between the years 0001 and 9999");

/**
 * The history's query string: the seed's filters (jobId, status, from, to,
 * limit) plus trigger, and `after`/`before` cursors instead of page numbers.
 */
export const HistoryQuerySchema = z.object({
  jobId: z.string().max(200, "is too long").refine((id) => !id.includes("\0"), "cannot contain NUL")
    .optional(),
  status: z.enum(EXECUTION_STATUSES, { error: `must be one of ${EXECUTION_STATUSES.join(", ")}` }).optional(),
  trigger: z.enum(TRIGGERS, { error: `must be one of ${TRIGGERS.join(", ")}` }).optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: z.coerce.number({ error: "must be a number" }).int("must be a whole number")
    .min(1, "must be at least 1").max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`).default(DEFAULT_LIMIT),
  after: cursorParam().optional(),
  before: cursorParam().optional(),
}).refine((q) => !(q.from && q.to && q.from > q.to), { path: ["to"], message: "must not be before from" })
  .refine((q) => !(q.after && q.before), { path: ["before"], message: "cannot be combined with after" });

export type HistoryQuery = z.output<typeof HistoryQuerySchema>;
export type HistoryField = "jobId" | "status" | "trigger" | "from" | "to" | "limit" | "after" | "before";

export interface HistoryIssue {
  field: string;
  message: string;
}

/**
 * Validates query parameters (empty values count as absent, as a GET form
 * sends them). On failure, `query` is the same input with the offending
 * parameters dropped, so a page can still show the history next to the
 * messages.
 */
export function parseHistoryQuery(
  params: Record<string, string>,
): { ok: true; query: HistoryQuery } | { ok: false; issues: HistoryIssue[]; query: HistoryQuery } {
  const present = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== ""));
  const parsed = HistoryQuerySchema.safeParse(present);
  if (parsed.success) return { ok: true, query: parsed.data };
  const issues = parsed.error.issues.map((issue) => ({
    field: String(issue.path[0] ?? "query"),
    message: issue.message,
  }));
  const bad = new Set(issues.map((issue) => issue.field));
  const rest = Object.fromEntries(Object.entries(present).filter(([key]) => !bad.has(key)));
  const fallback = HistoryQuerySchema.safeParse(rest);
  return { ok: false, issues, query: fallback.success ? fallback.data : { limit: DEFAULT_LIMIT } };
}

/** The query string of a history query (cursors as given), for links that keep the filters. */
export function historySearch(
  query: Partial<Record<"jobId" | "status" | "trigger" | "after" | "before", string>> & {
    from?: Date;
    to?: Date;
    limit?: number;
  },
): string {
  const params = new URLSearchParams();
  if (query.jobId) params.set("jobId", query.jobId);
  if (query.status) params.set("status", query.status);
  if (query.trigger) params.set("trigger", query.trigger);
  if (query.from) params.set("from", query.from.toISOString());
  if (query.to) params.set("to", query.to.toISOString());
  if (query.limit && query.limit !== DEFAULT_LIMIT) params.set("limit", String(query.limit));
  if (query.after) params.set("after", query.after);
  if (query.before) params.set("before", query.before);
  const text = params.toString();
  return text ? `?${text}` : "";
}
