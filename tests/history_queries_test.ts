import assert from "node:assert/strict";
import type { Sql } from "../lib/db/mod.ts";
import type { ExecutionStatus } from "../lib/events.ts";
import { decodeCursor, type HistoryPage, type HistoryQuery } from "../lib/history.ts";
import { listAuditEvents, recordAuditEvent } from "../lib/queries/audit.ts";
import {
  ESTIMATE_ONLY_ABOVE,
  EXACT_TOTAL_CAP,
  executionPageStatement,
  getExecutionDetail,
  listExecutions,
  listExecutionsByIds,
} from "../lib/queries/history.ts";
import { dbTest, withDatabase } from "./helpers/db.ts";
import { makeExecution, makeJob } from "./helpers/fixtures.ts";

async function makeUser(sql: Sql, name: string): Promise<string> {
  const [{ id }] = await sql<{ id: string }[]>`
    INSERT INTO users (email, name, role, password_hash)
    VALUES (${`${name.toLowerCase()}@example.com`}, ${name}, 'admin', 'x')
    RETURNING id
  `;
  return id;
}

/** `count` scheduled, completed runs of `jobId`, one a minute from `from`, inserted in one statement. */
async function makeManyExecutions(
  sql: Sql,
  jobId: string,
  count: number,
  from: string,
  status: ExecutionStatus = "completed",
) {
  await sql`
    INSERT INTO job_executions (job_id, period_key, execution_id, status, started_at)
    SELECT ${jobId}, ${crypto.randomUUID()} || g, 'x', ${status}::job_status,
           ${from}::timestamptz + g * interval '1 minute'
    FROM generate_series(1, ${count}::int) AS g
  `;
}

/** Every execution id matching nothing but the order: the list paging must reproduce. */
async function allIdsNewestFirst(sql: Sql): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`SELECT id FROM job_executions ORDER BY started_at DESC, id DESC`;
  return rows.map((row) => row.id);
}

const ids = (page: HistoryPage) => page.executions.map((execution) => execution.id);
const cursor = (text: string | null) => decodeCursor(text!) ?? assert.fail(`not a cursor: ${text}`);

/** Some rows share one started_at, others differ from it by a microsecond. */
async function makeTiedExecutions(sql: Sql) {
  await makeJob(sql, "digest", { displayName: "Digest" });
  await makeJob(sql, "backup", { displayName: "Backup" });
  for (let i = 0; i < 9; i++) {
    await makeExecution(sql, { jobId: i % 2 ? "digest" : "backup", startedAt: "2027-03-01T10:00:00Z" });
  }
  for (const startedAt of ["2027-03-01T09:59:59.999999Z", "2027-03-01T10:00:00.000001Z"]) {
    for (let i = 0; i < 3; i++) await makeExecution(sql, { jobId: "digest", startedAt });
  }
  await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-01T10:00:00.000002Z" });
  await makeExecution(sql, { jobId: "backup", startedAt: "2027-02-28T08:00:00Z" });
}

Deno.test({
  name: "paging forward visits every execution once, in order, through rows sharing a started_at",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeTiedExecutions(sql);
      const expected = await allIdsNewestFirst(sql);
      const visited: string[] = [];
      let page = await listExecutions(sql, { limit: 4 });
      assert.equal(page.prevCursor, null, "the first page has nothing newer");
      visited.push(...ids(page));
      while (page.nextCursor) {
        assert.match(cursor(page.nextCursor).startedAt, /\.\d{6}Z$/, "cursors keep microseconds");
        page = await listExecutions(sql, { limit: 4, after: cursor(page.nextCursor) });
        assert.notEqual(page.prevCursor, null);
        visited.push(...ids(page));
      }
      assert.deepEqual(visited, expected);
      assert.equal(page.executions.length, expected.length % 4 || 4);
    }),
});

Deno.test({
  name: "paging back from the last page retraces the same pages and ends with no newer page",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeTiedExecutions(sql);
      const forward: HistoryPage[] = [await listExecutions(sql, { limit: 3 })];
      while (forward.at(-1)!.nextCursor) {
        forward.push(await listExecutions(sql, { limit: 3, after: cursor(forward.at(-1)!.nextCursor) }));
      }
      let page = forward.at(-1)!;
      for (let index = forward.length - 2; index >= 0; index--) {
        const back = await listExecutions(sql, { limit: 3, before: cursor(page.prevCursor) });
        assert.deepEqual(ids(back), ids(forward[index]), `page ${index} again`);
        assert.equal(back.prevCursor === null, index === 0, "only the newest page has no previous one");
        // Its next page is the one we came from.
        const again = await listExecutions(sql, { limit: 3, after: cursor(back.nextCursor) });
        assert.deepEqual(ids(again), ids(page));
        page = back;
      }
    }),
});

Deno.test({
  name: "a page reached backwards that holds the newest rows has no previous page",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeTiedExecutions(sql);
      const first = await listExecutions(sql, { limit: 5 });
      const second = await listExecutions(sql, { limit: 5, after: cursor(first.nextCursor) });
      const back = await listExecutions(sql, { limit: 5, before: cursor(second.prevCursor) });
      assert.deepEqual(ids(back), ids(first));
      assert.equal(back.prevCursor, null);
      assert.deepEqual(
        ids(await listExecutions(sql, { limit: 5, after: cursor(back.nextCursor) })),
        ids(second),
      );
    }),
});

Deno.test({
  name: "a page past the oldest row (its rows were purged) is empty and leads back",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeTiedExecutions(sql);
      const expected = await allIdsNewestFirst(sql);
      const last = await listExecutions(sql, { limit: 10 });
      const beyond = await listExecutions(sql, { limit: 10, after: cursor(last.nextCursor) });
      await sql`DELETE FROM job_executions WHERE id = ANY(${sql.array(ids(beyond))}::uuid[])`;
      const empty = await listExecutions(sql, { limit: 10, after: cursor(last.nextCursor) });
      assert.deepEqual(empty.executions, []);
      assert.equal(empty.nextCursor, null);
      const back = await listExecutions(sql, { limit: 10, before: cursor(empty.prevCursor) });
      assert.deepEqual(ids(back), expected.slice(0, 9), "the rows before the cursor's row");
    }),
});

Deno.test({
  name: "rows show the job's name, who ran them, and ISO times",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest", { displayName: "Weekly digest" });
      const ada = await makeUser(sql, "Ada");
      const id = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-01T10:00:00.123456Z",
        durationMs: 1500,
        trigger: "manual",
        triggeredBy: ada,
      });
      const { executions } = await listExecutions(sql, { limit: 10 });
      assert.deepEqual(executions, [{
        id,
        jobId: "digest",
        jobName: "Weekly digest",
        status: "completed",
        trigger: "manual",
        triggeredByName: "Ada",
        periodKey: executions[0].periodKey,
        startedAt: "2027-03-01T10:00:00.123Z",
        completedAt: "2027-03-01T10:00:01.623Z",
        durationMs: 1500,
        retryOf: null,
      }]);
    }),
});

Deno.test({
  name: "each filter narrows the history, and from and to include their bounds",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest");
      await makeJob(sql, "backup");
      const early = await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-01T08:00:00Z" });
      const failed = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-01T09:00:00Z",
        status: "failed",
      });
      const manual = await makeExecution(sql, {
        jobId: "backup",
        startedAt: "2027-03-01T10:00:00Z",
        trigger: "manual",
      });
      const external = await makeExecution(sql, {
        jobId: "backup",
        startedAt: "2027-03-01T11:00:00Z",
        trigger: "external",
        status: "running",
      });
      const late = await makeExecution(sql, { jobId: "backup", startedAt: "2027-03-01T12:00:00Z" });
      const list = async (filters: Omit<HistoryQuery, "limit">) =>
        ids(await listExecutions(sql, { limit: 50, ...filters }));

      assert.deepEqual(await list({ jobId: "digest" }), [failed, early]);
      assert.deepEqual(await list({ jobId: "nope" }), []);
      assert.deepEqual(await list({ status: "failed" }), [failed]);
      assert.deepEqual(await list({ status: "running" }), [external]);
      assert.deepEqual(await list({ trigger: "manual" }), [manual]);
      assert.deepEqual(await list({ trigger: "external" }), [external]);
      assert.deepEqual(await list({ trigger: "scheduled" }), [late, failed, early]);
      assert.deepEqual(await list({ from: new Date("2027-03-01T09:00:00Z") }), [
        late,
        external,
        manual,
        failed,
      ]);
      assert.deepEqual(await list({ to: new Date("2027-03-01T09:00:00Z") }), [failed, early]);
      assert.deepEqual(
        await list({ from: new Date("2027-03-01T09:00:00Z"), to: new Date("2027-03-01T11:00:00Z") }),
        [external, manual, failed],
      );
      assert.deepEqual(await list({ jobId: "backup", trigger: "scheduled" }), [late]);
      const page = await listExecutions(sql, { limit: 50, jobId: "backup" });
      assert.deepEqual(page.total, { value: 3, estimated: false });
    }),
});

Deno.test({
  name: "filters and cursors combine: paging a filtered list keeps the filter",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeTiedExecutions(sql);
      const expected = (await sql<{ id: string }[]>`
        SELECT id FROM job_executions WHERE job_id = 'digest' ORDER BY started_at DESC, id DESC
      `).map((row) => row.id);
      const visited: string[] = [];
      let page = await listExecutions(sql, { limit: 2, jobId: "digest" });
      visited.push(...ids(page));
      while (page.nextCursor) {
        page = await listExecutions(sql, { limit: 2, jobId: "digest", after: cursor(page.nextCursor) });
        assert.deepEqual(
          page.total,
          { value: expected.length, estimated: false },
          "the total ignores the cursor",
        );
        visited.push(...ids(page));
      }
      assert.deepEqual(visited, expected);
    }),
});

Deno.test({
  name: "the total is exact up to the cap and the planner's estimate above it",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "bulk");
      await makeJob(sql, "rare");
      await makeManyExecutions(sql, "bulk", EXACT_TOTAL_CAP, "2027-01-01T00:00:00Z");
      assert.deepEqual((await listExecutions(sql, { limit: 1 })).total, {
        value: EXACT_TOTAL_CAP,
        estimated: false,
      });

      await makeExecution(sql, { jobId: "rare", startedAt: "2027-06-01T00:00:00Z", status: "failed" });
      const unanalyzed = (await listExecutions(sql, { limit: 1 })).total;
      assert.equal(unanalyzed.estimated, true);
      assert.ok(unanalyzed.value > EXACT_TOTAL_CAP, "never less than what was counted");
      assert.deepEqual((await listExecutions(sql, { limit: 1, jobId: "rare" })).total, {
        value: 1,
        estimated: false,
      });

      await makeManyExecutions(sql, "rare", 4_000, "2028-01-01T00:00:00Z", "failed");
      await makeManyExecutions(sql, "bulk", 6_000, "2029-01-01T00:00:00Z");
      await sql`ANALYZE job_executions`;
      const near = (actual: number, tolerance: number) => async (query: Omit<HistoryQuery, "limit">) => {
        const total = (await listExecutions(sql, { limit: 1, ...query })).total;
        assert.equal(total.estimated, true);
        assert.ok(
          Math.abs(total.value - actual) <= actual * tolerance,
          `about ${actual}, not ${total.value}`,
        );
      };
      await near(20_001, 0.05)({});
      await near(16_000, 0.05)({ jobId: "bulk" });
      assert.deepEqual((await listExecutions(sql, { limit: 1, status: "failed" })).total, {
        value: 4_001,
        estimated: false,
      });
      // Between ANALYZE runs the estimate follows the table's growth: the planner scales by its pages.
      await makeManyExecutions(sql, "bulk", 5_000, "2030-01-01T00:00:00Z");
      await near(25_001, 0.1)({});
      // Statistics that put the table far above the cap: the estimate is the total, nothing is counted.
      await sql`UPDATE pg_class SET reltuples = 2000000 WHERE oid = 'job_executions'::regclass`;
      const trusted = (await listExecutions(sql, { limit: 1 })).total;
      assert.equal(trusted.estimated, true);
      assert.ok(trusted.value > ESTIMATE_ONLY_ABOVE, `the planner's ${trusted.value}, not a count`);
    }),
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

Deno.test({
  name: "each page query is a range scan of its index on a large table, with no sort",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      for (const job of ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]) await makeJob(sql, job);
      await sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at)
        SELECT chr(97 + g % 10), 'p' || g, 'x',
               -- Statuses spread over every job (g / 10), as failures are in real histories.
               (CASE WHEN (g / 10) % 20 = 0 THEN 'failed' WHEN (g / 10) % 50 = 1 THEN 'skipped'
                     ELSE 'completed' END)::job_status,
               CASE WHEN g % 100 = 0 THEN 'manual' ELSE 'scheduled' END,
               timestamptz '2027-01-01' + (g / 3) * interval '1 minute'
        FROM generate_series(1, 20000) AS g
      `;
      await sql`ANALYZE`;
      const [middle] = await sql<{ cursorAt: string; id: string }[]>`
        SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at, id::text
        FROM job_executions ORDER BY started_at DESC, id DESC OFFSET 10000 LIMIT 1
      `;
      const position = { startedAt: middle.cursorAt, id: middle.id };
      const cases: [Omit<HistoryQuery, "limit">, string][] = [
        [{}, "job_executions_started_idx"],
        [{ jobId: "c" }, "job_executions_job_started_idx"],
        [{ status: "failed" }, "job_executions_status_started_idx"],
        [{ jobId: "c", status: "failed" }, "job_executions_job_status_started_idx"],
      ];
      for (const [filters, index] of cases) {
        for (const travel of [{}, { after: position }, { before: position }]) {
          const query = { limit: 20, ...filters, ...travel };
          const [[json]] = await sql`EXPLAIN (FORMAT JSON) ${executionPageStatement(sql, query)}`.raw();
          const [{ Plan }] = JSON.parse(new TextDecoder().decode(json)) as [{ Plan: PlanNode }];
          const nodes = planNodes(Plan);
          const label = `${JSON.stringify(query)}: ${JSON.stringify(Plan)}`;
          assert.ok(!nodes.some((node) => node["Node Type"] === "Sort"), `no Sort in ${label}`);
          const scans = nodes.filter((node) => node["Relation Name"] === "job_executions");
          assert.deepEqual(scans.map((node) => [node["Node Type"], node["Index Name"]]), [[
            "Index Scan",
            index,
          ]], label);
        }
      }
    }),
});

Deno.test({
  name: "an execution in full: its retries oldest first and who ran it; null for a bad or unknown id",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest", { displayName: "Digest" });
      const ada = await makeUser(sql, "Ada");
      const failed = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-01T10:00:00Z",
        durationMs: 250,
        status: "failed",
        errorMessage: "upstream timed out",
      });
      const secondRetry = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-01T10:10:00Z",
        trigger: "manual",
        triggeredBy: ada,
        retryOf: failed,
      });
      const firstRetry = await makeExecution(sql, {
        jobId: "digest",
        startedAt: "2027-03-01T10:05:00Z",
        trigger: "manual",
        triggeredBy: ada,
        retryOf: failed,
        status: "failed",
      });
      const detail = await getExecutionDetail(sql, failed);
      assert.ok(detail);
      assert.equal(detail.jobName, "Digest");
      assert.equal(detail.status, "failed");
      assert.equal(detail.errorMessage, "upstream timed out");
      assert.equal(detail.durationMs, 250);
      assert.equal(detail.triggeredByName, null);
      assert.deepEqual(detail.retriedAs, [firstRetry, secondRetry]);
      assert.equal(typeof detail.executionId, "string");

      const retry = await getExecutionDetail(sql, secondRetry.toUpperCase());
      assert.equal(retry?.triggeredByName, "Ada");
      assert.equal(retry?.retryOf, failed);
      assert.deepEqual(retry?.retriedAs, []);

      assert.equal(await getExecutionDetail(sql, "not-a-uuid"), null);
      assert.equal(await getExecutionDetail(sql, crypto.randomUUID()), null);
    }),
});

Deno.test({
  name: "executions by id come newest first, and ids that are not UUIDs are ignored",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      await makeJob(sql, "digest");
      const older = await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-01T10:00:00Z" });
      const newer = await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-01T11:00:00Z" });
      await makeExecution(sql, { jobId: "digest", startedAt: "2027-03-01T12:00:00Z" });
      const rows = await listExecutionsByIds(sql, [
        older,
        "'; DROP TABLE x",
        newer,
        crypto.randomUUID(),
        older,
      ]);
      assert.deepEqual(rows.map((row) => row.id), [newer, older]);
      assert.deepEqual(await listExecutionsByIds(sql, ["nope"]), []);
      assert.deepEqual(await listExecutionsByIds(sql, []), []);
    }),
});

Deno.test({
  name: "the audit log pages forward and back by (occurred_at, id) with the actor's name",
  ...dbTest,
  fn: () =>
    withDatabase(async (sql) => {
      const ada = await makeUser(sql, "Ada");
      const occurred = [
        "2027-03-01T10:00:00Z",
        "2027-03-01T10:00:00Z",
        "2027-03-01T10:00:00Z",
        "2027-03-01T10:00:00.000001Z",
        "2027-03-01T09:59:59.999999Z",
        "2027-03-01T10:00:00Z",
        "2027-03-02T00:00:00Z",
      ];
      for (const [index, at] of occurred.entries()) {
        await sql`
          INSERT INTO audit_events (occurred_at, action, actor_id, actor_email, target_type, target_id, ip, metadata)
          VALUES (${at}::timestamptz, ${`test.${index}`}, ${index === 0 ? ada : null}::uuid,
                  ${index === 0 ? "ada@example.com" : null}, 'job', 'digest', '127.0.0.1', ${
          sql.json({ index })
        })
        `;
      }
      await recordAuditEvent(sql, { action: "auth.signed_in", occurredAt: new Date("2027-02-01T00:00:00Z") });
      const expected = (await sql<{ id: string }[]>`
        SELECT id::text FROM audit_events ORDER BY occurred_at DESC, id DESC
      `).map((row) => row.id);
      const serial = (text: string | null) =>
        decodeCursor(text!, "serial") ?? assert.fail(`not a cursor: ${text}`);

      const pages = [await listAuditEvents(sql, { limit: 3 })];
      assert.equal(pages[0].prevCursor, null);
      while (pages.at(-1)!.nextCursor) {
        pages.push(await listAuditEvents(sql, { limit: 3, after: serial(pages.at(-1)!.nextCursor) }));
      }
      assert.deepEqual(pages.flatMap((page) => page.events.map((event) => event.id)), expected);

      let page = pages.at(-1)!;
      for (let index = pages.length - 2; index >= 0; index--) {
        page = await listAuditEvents(sql, { limit: 3, before: serial(page.prevCursor) });
        assert.deepEqual(page.events.map((event) => event.id), pages[index].events.map((event) => event.id));
      }
      assert.equal(page.prevCursor, null);

      const first = pages.flatMap((p) => p.events).find((event) => event.action === "test.0");
      assert.deepEqual(first, {
        id: first!.id,
        occurredAt: "2027-03-01T10:00:00.000Z",
        actorEmail: "ada@example.com",
        actorName: "Ada",
        action: "test.0",
        targetType: "job",
        targetId: "digest",
        ip: "127.0.0.1",
        metadata: { index: 0 },
      });
    }),
});
