/** The live history's row logic (lib/client/history_rows.ts), pure. */
import assert from "node:assert/strict";
import { matchesFilters, mergeRows, triggerLabel } from "../lib/client/history_rows.ts";
import type { ExecutionRow } from "../lib/history.ts";

function makeRow(overrides: Partial<ExecutionRow> & { id: string; startedAt: string }): ExecutionRow {
  return {
    jobId: "digest",
    jobName: "Weekly Digest",
    status: "running",
    trigger: "scheduled",
    triggeredByName: null,
    periodKey: "p",
    completedAt: null,
    durationMs: null,
    retryOf: null,
    ...overrides,
  };
}

const a = makeRow({ id: "00000000-0000-4000-8000-00000000000a", startedAt: "2027-03-08T10:00:00.000Z" });
const b = makeRow({ id: "00000000-0000-4000-8000-00000000000b", startedAt: "2027-03-08T09:00:00.000Z" });

Deno.test("a changed row is updated in place, even when it no longer matches a status filter", () => {
  const done = { ...a, status: "failed" as const, completedAt: "2027-03-08T10:00:01.000Z", durationMs: 1000 };
  assert.deepEqual(mergeRows([a, b], [done], { status: "running" }), [done, b]);
  const same = [a, b];
  assert.equal(mergeRows(same, [{ ...a }], {}), same, "nothing changed: the same array");
});

Deno.test("a new matching run is inserted in order; one failing the filters is not", () => {
  const newer = makeRow({
    id: "00000000-0000-4000-8000-00000000000c",
    startedAt: "2027-03-08T11:00:00.000Z",
  });
  assert.deepEqual(mergeRows([a, b], [newer], {}), [newer, a, b]);
  assert.deepEqual(mergeRows([a, b], [newer], { jobId: "other" }), [a, b]);
  assert.deepEqual(mergeRows([a, b], [newer], { to: "2027-03-08T10:30:00Z" }), [a, b]);
});

Deno.test("a new run older than the oldest row shown joins only when no older pages exist", () => {
  const older = makeRow({
    id: "00000000-0000-4000-8000-000000000001",
    startedAt: "2027-03-08T08:00:00.000Z",
  });
  assert.deepEqual(mergeRows([a, b], [older], {}, { hasOlder: true }), [a, b]);
  assert.deepEqual(mergeRows([a, b], [older], {}, { hasOlder: false }), [a, b, older]);
  // Same start as the oldest row and a smaller id: still placed by (startedAt, id).
  const tie = makeRow({ id: "00000000-0000-4000-8000-000000000002", startedAt: b.startedAt });
  assert.deepEqual(mergeRows([a, b], [tie], {}, { hasOlder: false }), [a, b, tie]);
});

Deno.test("the list never grows past its cap", () => {
  const many = Array.from({ length: 10 }, (_, i) =>
    makeRow({
      id: `00000000-0000-4000-8000-0000000001${String(i).padStart(2, "0")}`,
      startedAt: `2027-03-08T12:${String(i).padStart(2, "0")}:00.000Z`,
    }));
  const merged = mergeRows([a], many, {}, { cap: 5 });
  assert.equal(merged.length, 5);
  assert.equal(merged[0].startedAt, "2027-03-08T12:09:00.000Z");
});

Deno.test("filters and trigger labels follow the server's rules", () => {
  assert.equal(matchesFilters(a, { from: "2027-03-08T10:00" }), true, "a zoneless filter time is UTC");
  assert.equal(matchesFilters(a, { from: "2027-03-08T10:00:01Z" }), false);
  assert.equal(triggerLabel({ trigger: "manual", triggeredByName: "Ada" }), "Manual by Ada");
  assert.equal(triggerLabel({ trigger: "manual", triggeredByName: null }), "Manual");
  assert.equal(triggerLabel({ trigger: "external", triggeredByName: null }), "External");
});
