/**
 * The dashboard in a real browser, through the real pages: sign in, the
 * example jobs' cards, Run now and a run that turns completed without a
 * reload, a failing job, Retry, a filter that survives a reload, hostile
 * error text, and what a viewer can and cannot do.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { defineJob } from "../../lib/jobs/define.ts";
import { exampleJobs } from "../../lib/jobs/examples/mod.ts";
import { createTestApp, makeUser, type Persona } from "../helpers/app.ts";
import {
  e2eTest,
  launchBrowser,
  openWatchedPage,
  pollFor,
  type RunningServer,
  startServer,
  waitUntil,
} from "../helpers/browser.ts";
import { rowOf, runningExecutionId } from "../helpers/history_page.ts";

const HOSTILE_ERROR = `<img src=x onerror=alert(1)>`;

const gates: (() => void)[] = [];

const jobs = [
  ...exampleJobs,
  defineJob({
    id: "gated-report",
    displayName: "Gated Report",
    schedule: "rate(1 hour)",
    // Runs until the test releases it, so its "running" state can be seen.
    run: () => new Promise((resolve) => gates.push(() => resolve({ rows: 12 }))),
  }),
  defineJob({
    id: "broken-export",
    displayName: "Broken Export",
    schedule: "rate(1 hour)",
    run: () => {
      throw new Error(HOSTILE_ERROR);
    },
  }),
];

function card(page: Page, jobId: string): Locator {
  return page.locator(`article[data-job-id="${jobId}"]`);
}

async function signIn(page: Page, origin: string, persona: Persona): Promise<void> {
  await page.goto(`${origin}/login`);
  await page.getByLabel("E-mail").fill(persona.email);
  await page.getByLabel("Password", { exact: true }).fill(persona.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/admin/jobs");
  await page.locator('[data-live-state="live"]').waitFor({ timeout: 10_000 });
}

e2eTest("the dashboard in a real browser: cards, Run now, failures, Retry, filters, viewers", async (t) => {
  const testApp = await createTestApp({ jobs });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  const contexts: BrowserContext[] = [];
  try {
    server = startServer(testApp);
    const origin = server.url;
    const admin = await makeUser(testApp.db, { role: "admin", name: "Ada" });
    const viewer = await makeUser(testApp.db, { role: "viewer", name: "Vic" });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const { page, errors, dialogs } = await openWatchedPage(context);

    await t.step("an admin signs in and sees a card for every example job", async () => {
      await signIn(page, origin, admin);
      assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Scheduled jobs");
      for (const job of exampleJobs) {
        const jobCard = card(page, job.id);
        assert.equal(await jobCard.count(), 1, `a card for ${job.id}`);
        assert.match((await jobCard.textContent()) ?? "", new RegExp(job.displayName));
      }
      assert.match((await card(page, "weekly-digest").textContent()) ?? "", /cron\(0 9 \? \* MON \*\)/);
    });

    let runId = "";
    await t.step("Run now makes a running row appear that turns completed without a reload", async () => {
      await page.evaluate(() => Object.assign(globalThis, { jobwatchNoReload: true }));
      await card(page, "gated-report").getByRole("button", { name: /Run now/ }).click();
      await waitUntil(() => gates.length === 1, "the run to start");
      runId = await runningExecutionId(testApp.db.sql, "gated-report");
      const row = rowOf(page, runId);
      await row.getByText("Running", { exact: true }).waitFor();
      assert.match((await row.textContent()) ?? "", /Manual by Ada/);
      gates.splice(0).forEach((release) => release());
      await row.getByText("Completed", { exact: true }).waitFor();
      assert.equal(await page.evaluate(() => "jobwatchNoReload" in globalThis), true, "the page reloaded");
    });

    let failedId = "";
    await t.step("a failing job gets a failed card; its row shows the hostile error as text", async () => {
      await card(page, "broken-export").getByRole("button", { name: /Run now/ }).click();
      const id = await pollFor(async () => {
        const [row] = await testApp.db.sql<{ id: string }[]>`
          SELECT id FROM job_executions WHERE job_id = 'broken-export' AND status = 'failed'
        `;
        return row?.id;
      }, "the broken run to fail");
      failedId = id;
      await rowOf(page, failedId).getByText("Failed", { exact: true }).waitFor();
      await page.reload();
      await page.locator('[data-live-state="live"]').waitFor();
      const failedCard = card(page, "broken-export");
      await failedCard.getByTestId("failing").waitFor();
      assert.match((await failedCard.getByTestId("failing").textContent()) ?? "", /Failing/);
      // Failing jobs come first.
      assert.equal(
        await page.locator("article[data-job-id]").first().getAttribute("data-job-id"),
        "broken-export",
      );

      const toggle = rowOf(page, failedId).getByRole("button", { name: /Failed run of Broken Export/ });
      await toggle.click();
      assert.equal(await toggle.getAttribute("aria-expanded"), "true");
      const panel = page.locator(`#${await toggle.getAttribute("aria-controls")}`);
      const error = panel.getByText(HOSTILE_ERROR, { exact: true });
      await error.waitFor();
      assert.equal(await page.locator("img[src=x]").count(), 0, "the error text became an element");
      assert.deepEqual(dialogs, [], "script ran from the error text");
    });

    await t.step("Retry on the failed run creates a run linked to it", async () => {
      const panel = page.locator(`#execution-${failedId}`);
      await panel.getByRole("button", { name: "Retry" }).click();
      await panel.getByText("Retry started").waitFor();
      const retry = await pollFor(async () => {
        const [row] = await testApp.db.sql<{ id: string; retryOf: string }[]>`
          SELECT id, retry_of FROM job_executions WHERE retry_of = ${failedId} AND status = 'failed'
        `;
        return row;
      }, "the retry to fail");
      assert.equal(retry.retryOf, failedId);
      const retryRow = rowOf(page, retry.id);
      await retryRow.getByText("Failed", { exact: true }).waitFor();
      assert.match((await retryRow.textContent()) ?? "", /retry/);
      await page.goto(`${origin}/admin/executions/${retry.id}`);
      assert.match((await page.locator("main").textContent()) ?? "", new RegExp(`Retry of ${failedId}`));
      await page.goto(`${origin}/admin/executions/${failedId}`);
      assert.match((await page.locator("main").textContent()) ?? "", new RegExp(`Retried as ${retry.id}`));
    });

    await t.step("filtering by status=failed shows only failures and survives a reload", async () => {
      await page.goto(`${origin}/admin/jobs`);
      await page.getByLabel("Status").selectOption("failed");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL((url) => url.searchParams.get("status") === "failed");
      const check = async () => {
        const statuses = await page.locator("ul li button[aria-expanded]").allTextContents();
        assert.equal(statuses.length, 2, "the failed run and its failed retry");
        for (const status of statuses) assert.match(status, /^Failed/);
        assert.equal(await page.getByLabel("Status").inputValue(), "failed");
      };
      await check();
      await page.reload();
      await check();
    });

    await t.step("the dashboard fits a 375 px phone without horizontal scrolling", async () => {
      await page.setViewportSize({ width: 375, height: 800 });
      await page.goto(`${origin}/admin/jobs`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `the page is ${width} px wide`);
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    assert.deepEqual(errors, [], "the browser reported errors");

    await t.step(
      "a viewer gets Run now disabled with the reason, no Retry or toggle, and 403 for a forged POST",
      async () => {
        const viewerContext = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
        contexts.push(viewerContext);
        const watched = await openWatchedPage(viewerContext);
        const viewerPage = watched.page;
        await signIn(viewerPage, origin, viewer);
        const runButtons = viewerPage.getByRole("button", { name: /Run now/ });
        assert.ok(await runButtons.count() > 0);
        for (const button of await runButtons.all()) {
          assert.equal(await button.isDisabled(), true);
        }
        assert.match(
          (await card(viewerPage, "gated-report").textContent()) ?? "",
          /Viewers have read-only access/,
        );
        assert.equal(await viewerPage.getByRole("button", { name: /^(Disable|Enable)/ }).count(), 0);
        const toggle = rowOf(viewerPage, failedId).getByRole("button", {
          name: /Failed run of Broken Export/,
        });
        await toggle.click();
        await viewerPage.locator(`#execution-${failedId}`).getByText(HOSTILE_ERROR, { exact: true })
          .waitFor();
        assert.equal(
          await viewerPage.locator(`#execution-${failedId}`).getByRole("button", { name: "Retry" }).count(),
          0,
        );

        const forged = await viewerPage.evaluate(async () => {
          const response = await fetch("/api/admin/jobs/gated-report/trigger", { method: "POST" });
          return { status: response.status, body: await response.json() };
        });
        assert.equal(forged.status, 403);
        assert.match(forged.body.error, /read-only/);
        const [{ count }] = await testApp.db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM job_executions WHERE job_id = 'gated-report'
      `;
        assert.equal(count, 1, "the viewer's forged POST started a run");
        assert.deepEqual(watched.errors.filter((e) => !e.includes("403")), [], "the browser reported errors");
      },
    );
  } finally {
    gates.splice(0).forEach((release) => release());
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.close();
    await testApp.close();
  }
});
