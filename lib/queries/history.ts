/**
 * The execution history: keyset pages of executions newest first with
 * their total, one execution in full, and rows by id for the live island.
 * The page queries rely on the (…, started_at DESC, id DESC) indexes of
 * migrations/0004_history.sql.
 */
import type postgres from "postgres";
import type { Queryable } from "../db/mod.ts";
import {
  type Cursor,
  encodeCursor,
  type ExecutionDetail,
  type ExecutionRow,
  type HistoryPage,
  type HistoryQuery,
  type HistoryTotal,
} from "../history.ts";
import { isUuid } from "../ids.ts";

/** Up to this many matching executions the total is counted; above it, it is the planner's estimate. */
export const EXACT_TOTAL_CAP = 10_000;

/** Where a keyset page starts and which way it goes: `after` is older rows, `before` newer ones. */
export interface PagePosition {
  limit: number;
  after?: Cursor;
  before?: Cursor;
}

/** A fetched row's place in the order: its id and its time with microseconds, in UTC. */
interface Positioned {
  id: string;
  cursorAt: string;
}

/**
 * A row's time as PostgreSQL keeps it, to the microsecond, for cursors: a JS
 * Date would drop the microseconds and skip or repeat rows at page edges.
 */
export const cursorTime = (sql: Queryable, column: postgres.Fragment) =>
  sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Turns the rows of a keyset query, fetched `limit + 1` in the direction
 * travelled, into a page newest first with the cursors to either side.
 */
export function keysetPage<T extends Positioned>(
  rows: T[],
  position: PagePosition,
): { rows: T[]; nextCursor: string | null; prevCursor: string | null } {
  const more = rows.length > position.limit;
  const page = rows.slice(0, position.limit);
  const cursorOf = (row: T) => encodeCursor({ startedAt: row.cursorAt, id: row.id });
  if (position.before) {
    page.reverse();
    return {
      rows: page,
      // The row this page was reached from is older than all of it. An empty
      // page (its rows were deleted) still leads back there.
      nextCursor: page.length > 0 ? cursorOf(page[page.length - 1]) : encodeCursor(position.before),
      prevCursor: more ? cursorOf(page[0]) : null,
    };
  }
  // The first page has nothing newer; a later one came from a newer row, and
  // when empty (its rows were purged) leads back to rows newer than the cursor.
  let prevCursor: string | null = null;
  if (position.after) prevCursor = page.length > 0 ? cursorOf(page[0]) : encodeCursor(position.after);
  return { rows: page, nextCursor: more ? cursorOf(page[page.length - 1]) : null, prevCursor };
}

/** A history row as the database returns it: instants as Dates, plus the row's cursor time. */
type RowRecord = Omit<ExecutionRow, "startedAt" | "completedAt"> & {
  startedAt: Date;
  completedAt: Date | null;
  cursorAt: string;
};

const ROW_COLUMNS = (sql: Queryable) =>
  sql`e.id, e.job_id, d.display_name AS job_name, e.status, e.trigger, u.name AS triggered_by_name,
      e.period_key, e.started_at, e.completed_at, e.duration_ms, e.retry_of,
      ${cursorTime(sql, sql`e.started_at`)} AS cursor_at`;

const ROW_SOURCE = (sql: Queryable) =>
  sql`job_executions e
      JOIN job_definitions d ON d.id = e.job_id
      LEFT JOIN users u ON u.id = e.triggered_by`;

function toRow(record: RowRecord): ExecutionRow {
  return {
    id: record.id,
    jobId: record.jobId,
    jobName: record.jobName,
    status: record.status,
    trigger: record.trigger,
    triggeredByName: record.triggeredByName,
    periodKey: record.periodKey,
    startedAt: record.startedAt.toISOString(),
    completedAt: record.completedAt?.toISOString() ?? null,
    durationMs: record.durationMs,
    retryOf: record.retryOf,
  };
}

/**
 * The filters of a history query as conditions on `job_executions e`.
 * `forEstimate` leaves out the predicate repeated for the partial index,
 * which the planner would count twice and so underestimate the rows.
 */
function filterConditions(sql: Queryable, query: HistoryQuery, forEstimate = false): postgres.Fragment[] {
  const conditions: postgres.Fragment[] = [];
  if (query.jobId !== undefined) conditions.push(sql`e.job_id = ${query.jobId}`);
  if (query.status) conditions.push(sql`e.status = ${query.status}::job_status`);
  if (query.trigger === "scheduled") conditions.push(sql`e.trigger = 'scheduled'`);
  else if (query.trigger && forEstimate) conditions.push(sql`e.trigger = ${query.trigger}`);
  else if (query.trigger) {
    // Repeating the partial index's predicate lets a generic plan use job_executions_unscheduled_idx.
    conditions.push(sql`e.trigger = ${query.trigger} AND e.trigger <> 'scheduled'`);
  }
  if (query.from) conditions.push(sql`e.started_at >= ${query.from}::timestamptz`);
  if (query.to) conditions.push(sql`e.started_at <= ${query.to}::timestamptz`);
  return conditions;
}

function where(sql: Queryable, conditions: postgres.Fragment[]) {
  if (conditions.length === 0) return sql``;
  return sql`WHERE ${conditions.reduce((all, condition) => sql`${all} AND ${condition}`)}`;
}

/**
 * The statement behind one page: `limit + 1` rows from the cursor in the
 * direction travelled, a range scan of one (…, started_at DESC, id DESC)
 * index. Exported so a test can EXPLAIN exactly what `listExecutions` runs.
 */
export function executionPageStatement(sql: Queryable, query: HistoryQuery) {
  const conditions = filterConditions(sql, query);
  if (query.before) {
    conditions.push(
      sql`(e.started_at, e.id) > (${query.before.startedAt}::timestamptz, ${query.before.id}::uuid)`,
    );
  } else if (query.after) {
    conditions.push(
      sql`(e.started_at, e.id) < (${query.after.startedAt}::timestamptz, ${query.after.id}::uuid)`,
    );
  }
  const order = query.before ? sql`e.started_at ASC, e.id ASC` : sql`e.started_at DESC, e.id DESC`;
  return sql<RowRecord[]>`
    SELECT ${ROW_COLUMNS(sql)}
    FROM ${ROW_SOURCE(sql)}
    ${where(sql, conditions)}
    ORDER BY ${order}
    LIMIT ${query.limit + 1}::int
  `;
}

/** One page of the history, newest first, with the cursors around it and the total matching the filters. */
export async function listExecutions(sql: Queryable, query: HistoryQuery): Promise<HistoryPage> {
  const [records, total] = await Promise.all([
    executionPageStatement(sql, query),
    countExecutions(sql, query),
  ]);
  const page = keysetPage(records, query);
  return {
    executions: page.rows.map(toRow),
    nextCursor: page.nextCursor,
    prevCursor: page.prevCursor,
    total,
  };
}

/**
 * Above this many rows by the planner's estimate, the estimate is the total
 * and nothing is counted: counting even to EXACT_TOTAL_CAP reads 10,001
 * index entries, most of a history page's cost, and the planner would have
 * to be wrong tenfold for an exact count to be due.
 */
export const ESTIMATE_ONLY_ABOVE = 10 * EXACT_TOTAL_CAP;

/**
 * How many executions match the filters (cursors aside): counted when at
 * most EXACT_TOTAL_CAP do, which stops after cap + 1 rows; otherwise the
 * planner's estimate for the filtered scan, never less than cap + 1. When
 * the estimate alone is far above the cap, it is taken without counting.
 */
export async function countExecutions(sql: Queryable, query: HistoryQuery): Promise<HistoryTotal> {
  const estimate = await plannedRows(
    sql,
    sql`SELECT 1 FROM job_executions e ${where(sql, filterConditions(sql, query, true))}`,
  );
  if (estimate > ESTIMATE_ONLY_ABOVE) return { value: estimate, estimated: true };
  const [{ count }] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count
    FROM (
      SELECT 1 FROM job_executions e
      ${where(sql, filterConditions(sql, query))}
      LIMIT ${EXACT_TOTAL_CAP + 1}::int
    ) capped
  `;
  if (count <= EXACT_TOTAL_CAP) return { value: count, estimated: false };
  return { value: Math.max(estimate, EXACT_TOTAL_CAP + 1), estimated: true };
}

/**
 * The planner's row estimate for a statement (EXPLAIN, which plans with the
 * bound parameters but runs nothing). From table statistics when ANALYZE or
 * autovacuum has run, else from the table's size on disk.
 */
async function plannedRows(sql: Queryable, statement: postgres.Fragment): Promise<number> {
  // Raw bytes: the client's camelCase transform would rename the plan's JSON keys.
  const [[plan]] = await sql`EXPLAIN (FORMAT JSON) ${statement}`.raw();
  const [{ Plan }] = JSON.parse(new TextDecoder().decode(plan)) as [{ Plan: { "Plan Rows": number } }];
  return Math.round(Plan["Plan Rows"]);
}

/** One execution in full; null for an id that is not a UUID or names no execution. */
export async function getExecutionDetail(sql: Queryable, id: string): Promise<ExecutionDetail | null> {
  if (!isUuid(id)) return null;
  const [record] = await sql<
    (RowRecord & Omit<ExecutionDetail, keyof ExecutionRow>)[]
  >`
    SELECT ${ROW_COLUMNS(sql)},
           e.execution_id, e.result, e.error_message, e.metadata, e.exit_code, e.log,
           ARRAY(
             SELECT r.id::text FROM job_executions r      -- job_executions_retry_of_idx
             WHERE r.retry_of = e.id
             ORDER BY r.started_at, r.id
           ) AS retried_as
    FROM ${ROW_SOURCE(sql)}
    WHERE e.id = ${id}::uuid
  `;
  if (!record) return null;
  return {
    ...toRow(record),
    executionId: record.executionId,
    result: record.result,
    errorMessage: record.errorMessage,
    metadata: record.metadata,
    exitCode: record.exitCode,
    log: record.log,
    retriedAs: record.retriedAs,
  };
}

/** The rows of these executions, newest first, for the live island's refresh; ids that are not UUIDs are ignored. */
export async function listExecutionsByIds(sql: Queryable, ids: string[]): Promise<ExecutionRow[]> {
  const uuids = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
  if (uuids.length === 0) return [];
  const records = await sql<RowRecord[]>`
    SELECT ${ROW_COLUMNS(sql)}
    FROM ${ROW_SOURCE(sql)}
    WHERE e.id = ANY(${sql.array(uuids)}::uuid[])
    ORDER BY e.started_at DESC, e.id DESC
  `;
  return records.map(toRow);
}
