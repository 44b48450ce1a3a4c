import assert from "node:assert/strict";
import type { Context } from "hono";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { h, type VNode } from "preact";
import ExecutionHistory from "../../islands/ExecutionHistory.tsx";
import JobToggle from "../../islands/JobToggle.tsx";
import RunNowButton from "../../islands/RunNowButton.tsx";
import type { AppEnv } from "../../lib/http/context.ts";
import { renderPage } from "../../lib/http/page.ts";
import { defineJob } from "../../lib/jobs/define.ts";
import { listExecutions } from "../../lib/queries/history.ts";
import { getJobDefinition } from "../../lib/queries/jobs.ts";
import { streamExecutionEvents } from "../../routes/api/admin/events.ts";
import { type Route, routes } from "../../routes/mod.ts";
import { createTestApp, makeUser, ORIGIN, type TestApp } from "../helpers/app.ts";
import {
  e2eTest,
  launchBrowser,
  openWatchedPage,
  type RunningServer,
  startServer,
  waitUntil,
} from "../helpers/browser.ts";
import { rowOf, runningExecutionId } from "../helpers/history_page.ts";

const HOSTILE_ERROR = `<img src=x onerror=alert(1)>`;
const DISABLED_REASON = "Viewers have read-only access; ask an admin to run it.";

/** Runs of "digest" wait here until the test lets them finish. */
const gates: (() => void)[] = [];
const releaseRuns = () => gates.splice(0).forEach((release) => release());

const jobs = [
  defineJob({
    id: "digest",
    displayName: "Weekly Digest",
    schedule: "rate(1 hour)",
    run: () => new Promise((resolve) => gates.push(() => resolve({ sent: 3 }))),
  }),
  defineJob({
    id: "export",
    displayName: "Broken Export",
    schedule: "rate(1 hour)",
    run: () => {
      throw new Error(HOSTILE_ERROR);
    },
  }),
];

/** Ends the test page's event streams, as a restarting server or a dropped proxy would. */
let dropStreams = new AbortController();

/** A minimal page around the islands, so this test does not depend on the dashboard's layout. */
async function historyPage(c: Context<AppEnv>) {
  const { executions } = await listExecutions(c.var.deps.sql, { limit: 50 });
  const digest = (await getJobDefinition(c.var.deps.sql, "digest"))!;
  const body = h(
    "body",
    { class: "bg-white text-gray-900 dark:bg-gray-950 dark:text-gray-100" },
    h(
      "main",
      { class: "mx-auto max-w-6xl space-y-4 px-3 py-6" },
      h(
        "div",
        { class: "flex flex-wrap items-start gap-3" },
        h(RunNowButton, {
          jobId: "digest",
          jobName: "Weekly Digest",
          disabledReason: digest.enabled ? null : "Weekly Digest is disabled; enable it first.",
        }),
        h(JobToggle, { jobId: "digest", jobName: "Weekly Digest", enabled: digest.enabled }),
        h(RunNowButton, { jobId: "export", jobName: "Broken Export", disabledReason: DISABLED_REASON }),
      ),
      h(ExecutionHistory, {
        rows: executions,
        canRetry: true,
        live: true,
        filters: {},
        renderedAt: c.var.deps.now().toISOString(),
        eventsUrl: "/test/events",
        hasOlder: false,
      }),
    ),
  ) as VNode;
  return renderPage(c, body, { title: "History" });
}

const testRoutes: Route[] = [
  ...routes,
  { method: "GET", path: "/test/history", access: "user", handler: historyPage },
  {
    method: "GET",
    path: "/test/events",
    access: "user",
    handler: (c) =>
      streamExecutionEvents(c, AbortSignal.any([c.var.deps.jobs.bus.closed, dropStreams.signal])),
  },
];

async function runNow(testApp: TestApp, cookie: string, jobId: string): Promise<string> {
  const response = await testApp.app.request(`/api/admin/jobs/${jobId}/trigger`, {
    method: "POST",
    headers: { cookie, origin: ORIGIN },
  });
  assert.equal(response.status, 202, await response.clone().text());
  return (await response.json()).executionId;
}

const NAME =
  "the execution history updates live, expands by keyboard, retries, and shows hostile text as text";

e2eTest(NAME, async (t) => {
  const testApp = await createTestApp({ jobs, routes: testRoutes });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = startServer(testApp);
    const origin = server.url;
    const admin = await makeUser(testApp.db, { role: "admin", name: "Ada" });
    const cookie = await testApp.signIn(admin);
    const [cookieName, cookieValue] = cookie.split("=");
    const failedId = await runNow(testApp, cookie, "export");
    await testApp.deps.jobs.runner.settle();
    browser = await launchBrowser();

    const openHistory = async (context: BrowserContext) => {
      await context.addCookies([{ name: cookieName, value: cookieValue, url: origin }]);
      const watched = await openWatchedPage(context);
      await watched.page.goto(`${origin}/test/history`);
      await watched.page.locator('jw-island[data-island="ExecutionHistory"][data-hydrated="true"]').waitFor(
        {
          state: "attached",
        },
      );
      return watched;
    };

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, errors, dialogs } = await openHistory(context);
    // A reload would lose this: every change below must arrive without one.
    await page.evaluate(() => Object.assign(globalThis, { jobwatchNoReload: true }));
    const indicator = page.locator("[data-live-state]");
    await page.locator('[data-live-state="live"]').waitFor({ timeout: 10_000 });
    assert.equal((await indicator.textContent())?.trim(), "Live");

    await t.step("a failed run expands with Enter and shows its hostile error as text", async () => {
      const toggle = page.getByRole("button", { name: /Failed run of Broken Export/ });
      assert.equal(await toggle.getAttribute("aria-expanded"), "false");
      await toggle.focus();
      await page.keyboard.press("Enter");
      assert.equal(await toggle.getAttribute("aria-expanded"), "true");
      const panel = page.locator(`#${await toggle.getAttribute("aria-controls")}`);
      assert.equal(await toggle.getAttribute("aria-controls"), `execution-${failedId}`);
      const error = panel.getByText(HOSTILE_ERROR, { exact: true });
      await error.waitFor();
      assert.equal(await error.textContent(), HOSTILE_ERROR);
      assert.equal(await page.locator("img[src=x]").count(), 0, "the error became an element");
      await panel.getByRole("button", { name: "Retry" }).waitFor();
      await screenshot(page, "history-expanded");
      await page.keyboard.press("Space");
      assert.equal(await toggle.getAttribute("aria-expanded"), "false");
      assert.equal(await panel.isVisible(), false);
      assert.deepEqual(dialogs, [], "a dialog opened: script ran from data");
    });

    await t.step("a run started on the server appears without a reload and turns completed", async () => {
      testApp.clock.advance(1000);
      const executionId = await runNow(testApp, cookie, "digest");
      const row = rowOf(page, executionId);
      await row.getByText("Running", { exact: true }).waitFor();
      assert.equal(await row.locator("svg.animate-spin").count(), 1, "a running row spins");
      assert.equal(await row.locator("time").getAttribute("datetime"), testApp.clock.now.toISOString());
      assert.match((await row.textContent()) ?? "", /Manual by Ada/);
      await waitUntil(() => gates.length === 1, "the run to start");
      releaseRuns();
      await row.getByText("Completed", { exact: true }).waitFor();
      assert.equal(
        await page.locator("li").first().locator(`a[href="/admin/executions/${executionId}"]`).count(),
        1,
        "the newest run is the first row",
      );
      assert.equal(await page.evaluate(() => "jobwatchNoReload" in globalThis), true);
    });

    await t.step("Run now in the page starts a run that the history shows at once", async () => {
      testApp.clock.advance(1000);
      const button = page.getByRole("button", { name: /: Weekly Digest$/ });
      await button.click();
      await page.getByRole("button", { name: "Started: Weekly Digest" }).waitFor();
      await waitUntil(() => gates.length === 1, "the run to start");
      const row = rowOf(page, await runningExecutionId(testApp.db.sql, "digest"));
      await row.getByText("Running", { exact: true }).waitFor();
      releaseRuns();
      await row.getByText("Completed", { exact: true }).waitFor();
      await button.getByText("Run now").waitFor();
    });

    await t.step(
      "a dropped stream shows Reconnecting…, then Live, and catches up on what it missed",
      async () => {
        const { bus } = testApp.deps.jobs;
        dropStreams.abort();
        dropStreams = new AbortController();
        await page.locator('[data-live-state="reconnecting"]').waitFor();
        assert.equal((await indicator.textContent())?.trim(), "Reconnecting…");
        // Started while no stream listens: only the refetch after reconnecting can show it.
        await waitUntil(() => bus.listenerCount === 0, "the stream to close on the server");
        testApp.clock.advance(1000);
        const missedId = await runNow(testApp, cookie, "digest");
        await page.locator('[data-live-state="live"]').waitFor({ timeout: 10_000 });
        await rowOf(page, missedId).getByText("Running", { exact: true }).waitFor();
        releaseRuns();
        await rowOf(page, missedId).getByText("Completed", { exact: true }).waitFor();
        assert.equal(await page.evaluate(() => "jobwatchNoReload" in globalThis), true);
      },
    );

    await t.step("Retry on an expanded failed run starts a linked run that joins the list", async () => {
      const toggle = rowOf(page, failedId).getByRole("button");
      await toggle.click();
      const panel = page.locator(`#execution-${failedId}`);
      await panel.getByRole("button", { name: "Retry" }).click();
      const started = panel.getByRole("status").filter({ hasText: "Retry started" });
      await started.waitFor();
      const retryId = (await started.getByRole("link").textContent())!.trim();
      const retryRow = rowOf(page, retryId);
      await retryRow.getByText("retry", { exact: true }).waitFor();
      await retryRow.getByText("Failed", { exact: true }).waitFor();
      // The expanded detail refetches and now links the retry.
      await panel.getByText("Retried as").getByRole("link", { name: retryId }).waitFor();
      await toggle.click();
    });

    await t.step("a Run now the server refused is disabled and says why", async () => {
      const refused = page.getByRole("button", { name: /Run now: Broken Export/ });
      assert.equal(await refused.isDisabled(), true);
      assert.equal(await refused.getAttribute("title"), DISABLED_REASON);
      const describedBy = (await refused.getAttribute("aria-describedby"))!;
      assert.equal((await page.locator(`[id="${describedBy}"]`).textContent())?.trim(), DISABLED_REASON);
    });

    await t.step("Disable asks first; Cancel keeps the job, Confirm disables it and reloads", async () => {
      await page.getByRole("button", { name: "Disable Weekly Digest" }).click();
      const question = page.getByText(
        "Disable Weekly Digest? Scheduled runs stop until it is enabled again.",
      );
      await question.waitFor();
      await page.getByRole("button", { name: "Cancel" }).click();
      await question.waitFor({ state: "detached" });
      // Focus moves back in the render after the question closes: wait for it (a loaded machine is slow).
      await page.waitForFunction(
        () => document.activeElement?.getAttribute("aria-label") === "Disable Weekly Digest",
        null,
        { timeout: 5_000 },
      ).catch(() => {});
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
        "Disable Weekly Digest",
        "focus returns to the toggle",
      );
      await page.getByRole("button", { name: "Disable Weekly Digest" }).click();
      await page.getByRole("button", { name: "Confirm" }).click();
      await page.waitForFunction(() => !("jobwatchNoReload" in globalThis));
      await page.getByRole("button", { name: "Enable Weekly Digest" }).waitFor();
      assert.equal((await getJobDefinition(testApp.db.sql, "digest"))!.enabled, false);
      assert.equal(await page.getByRole("button", { name: /Run now: Weekly Digest/ }).isDisabled(), true);
    });

    assert.deepEqual(errors, [], "the browser reported errors");
    assert.deepEqual(dialogs, []);
    await context.close();
    await waitUntil(() => testApp.deps.jobs.bus.listenerCount === 0, "closing the tab to end its stream");

    await t.step("on a 375 px phone the rows stack without horizontal scroll, expanded too", async () => {
      const phone = await launchedContext(browser!, { width: 375, height: 740 });
      const { page, errors } = await openHistory(phone);
      await rowOf(page, failedId).getByRole("button").click();
      await page.getByText(HOSTILE_ERROR, { exact: true }).waitFor();
      await screenshot(page, "history-phone");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `the history is ${width} px wide`);
      assert.deepEqual(errors, [], "the browser reported errors");
      await phone.close();
    });

    await t.step("without JavaScript the rows still render, each with a link to its details", async () => {
      const noScript = await browser!.newContext({ javaScriptEnabled: false });
      await noScript.addCookies([{ name: cookieName, value: cookieValue, url: origin }]);
      const page = await noScript.newPage();
      await page.goto(`${origin}/test/history`);
      assert.equal(await rowOf(page, failedId).count(), 1);
      assert.equal(
        await page.locator("[data-live-state]").count(),
        0,
        "no live indicator without a stream",
      );
      await noScript.close();
    });
  } finally {
    releaseRuns();
    await browser?.close();
    testApp.deps.jobs.bus.close();
    await server?.close();
    await testApp.close();
  }
});

/** E2E_SCREENSHOT_DIR=/tmp/somewhere keeps pictures to look at; tests never compare pixels. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = Deno.env.get("E2E_SCREENSHOT_DIR");
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

function launchedContext(browser: Browser, viewport: { width: number; height: number }) {
  return browser.newContext({ viewport });
}
