/**
 * The live history's row logic, pure and client-safe: which rows a filter
 * admits, the list order, and folding fresh rows into the list shown.
 */
import type { ExecutionRow } from "../history.ts";

/** The history filters as the query string gives them. */
export interface HistoryFilters {
  jobId?: string;
  status?: string;
  trigger?: string;
  from?: string;
  to?: string;
}

/** Rows never grow past this, however long a page stays open. */
export const MAX_LIVE_ROWS = 200;

/** A filter instant as the server reads it: without a zone it is UTC. */
function instant(text: string): number {
  return Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`);
}

/** Whether `row` belongs in a list with these filters (the server's rule, applied in the browser). */
export function matchesFilters(row: ExecutionRow, filters: HistoryFilters): boolean {
  if (filters.jobId && row.jobId !== filters.jobId) return false;
  if (filters.status && row.status !== filters.status) return false;
  if (filters.trigger && row.trigger !== filters.trigger) return false;
  const started = Date.parse(row.startedAt);
  if (filters.from && started < instant(filters.from)) return false;
  if (filters.to && started > instant(filters.to)) return false;
  return true;
}

/** The history's order: newest start first, then id, as the server's keyset pages. */
export function compareRows(a: ExecutionRow, b: ExecutionRow): number {
  return Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Folds fresh rows into the list: rows shown are updated in place (even if
 * they no longer match a status filter: rows do not vanish under the
 * reader's eyes); new rows that match the filters are inserted, unless
 * older pages exist and the row is older than the list's oldest row (then
 * it belongs to a later page). Returns the same array when nothing changed.
 */
export function mergeRows(
  rows: ExecutionRow[],
  fresh: ExecutionRow[],
  filters: HistoryFilters,
  { hasOlder = true, cap = MAX_LIVE_ROWS }: { hasOlder?: boolean; cap?: number } = {},
): ExecutionRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const oldest = rows.at(-1);
  let changed = false;
  for (const row of fresh) {
    const shown = byId.get(row.id);
    if (shown) {
      if (!sameRow(shown, row)) {
        byId.set(row.id, row);
        changed = true;
      }
    } else if (matchesFilters(row, filters) && (!hasOlder || !oldest || compareRows(row, oldest) <= 0)) {
      byId.set(row.id, row);
      changed = true;
    }
  }
  return changed ? [...byId.values()].sort(compareRows).slice(0, cap) : rows;
}

function sameRow(a: ExecutionRow, b: ExecutionRow): boolean {
  return a.status === b.status && a.completedAt === b.completedAt && a.durationMs === b.durationMs &&
    a.startedAt === b.startedAt && a.jobName === b.jobName;
}

/** "Scheduled", "Manual by Ada", "Manual", "External". */
export function triggerLabel(row: Pick<ExecutionRow, "trigger" | "triggeredByName">): string {
  if (row.trigger === "manual") return row.triggeredByName ? `Manual by ${row.triggeredByName}` : "Manual";
  return row.trigger === "scheduled" ? "Scheduled" : "External";
}
