/**
 * The execution history as the browser tests find their way around it: a
 * run's row, and the id of a run started by a click in the page.
 */
import type { Locator, Page } from "playwright-core";
import type { Sql } from "../../lib/db/mod.ts";

/** An execution's row, found by its Details link, which every row has with or without JavaScript. */
export function rowOf(page: Page, executionId: string): Locator {
  const details = page.locator(`a[href="/admin/executions/${executionId}"]`, { hasText: "Details" });
  return page.locator("li").filter({ has: details });
}

/** The id of the job's running execution, e.g. one that Run now in the page started. */
export async function runningExecutionId(sql: Sql, jobId: string): Promise<string> {
  const [{ id }] = await sql<{ id: string }[]>`
    SELECT id FROM job_executions WHERE job_id = ${jobId} AND status = 'running'
  `;
  return id;
}
