/**
 * Alerts in a real browser: a failing job's alert on the alerts page and on
 * its run's page (hostile text as text), snoozing and unsnoozing from the
 * job page with plain forms, and a phone-width layout.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { raiseRunAlerts } from "../../lib/alerts/record.ts";
import { defineJob } from "../../lib/jobs/define.ts";
import { createTestApp, makeUser } from "../helpers/app.ts";
import {
  e2eTest,
  launchBrowser,
  openWatchedPage,
  type RunningServer,
  startServer,
} from "../helpers/browser.ts";
import { makeExecution } from "../helpers/fixtures.ts";

const HOSTILE = `</pre><img src=x onerror=alert(1)>`;

const jobs = [
  defineJob({ id: "exporter", displayName: "Invoice Exporter", schedule: "rate(1 hour)", run: () => {} }),
];

e2eTest(
  "alerts in a real browser: the list, a run's alerts, snooze and unsnooze, a phone screen",
  async (t) => {
    const testApp = await createTestApp({ jobs });
    let server: RunningServer | null = null;
    let browser: Browser | null = null;
    try {
      server = startServer(testApp);
      const origin = server.url;
      const admin = await makeUser(testApp.db, { role: "admin", email: "ada@example.com", name: "Ada" });
      const sql = testApp.db.sql;
      const executionId = await makeExecution(sql, {
        jobId: "exporter",
        startedAt: new Date(testApp.clock.now.getTime() - 60_000),
        status: "failed",
        durationMs: 900,
        errorMessage: HOSTILE,
      });
      // The alert as the runner raises it, in the transaction of the run's outcome.
      await sql.begin((tx) =>
        raiseRunAlerts(
          tx,
          [executionId],
          { email: { configured: false, alertTo: [] }, webhookHost: null },
          testApp.clock.now,
        )
      );

      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const { page, errors, dialogs } = await openWatchedPage(context);
      await page.goto(`${origin}/login`);
      await page.getByLabel("E-mail").fill(admin.email);
      await page.getByLabel("Password", { exact: true }).fill(admin.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL((url) => url.pathname === "/admin/jobs");

      await t.step("the alerts page lists the failure, who it was for, and why it was not sent", async () => {
        await page.getByRole("link", { name: "Alerts", exact: true }).click();
        await page.waitForURL((url) => url.pathname === "/admin/alerts");
        const text = (await page.locator("main").textContent()) ?? "";
        assert.match(text, /Invoice Exporter failed\./);
        assert.match(text, /ada@example\.com/);
        assert.match(text, /not sent: no RESEND_API_KEY/);
      });

      await t.step("the run's page shows its alert, and the hostile error stays text", async () => {
        await page.goto(`${origin}/admin/executions/${executionId}`);
        await page.getByRole("heading", { name: "Alerts" }).waitFor();
        assert.equal(await page.locator("img[src=x]").count(), 0, "no element was injected");
        assert.ok(((await page.locator("main").textContent()) ?? "").includes(HOSTILE));
      });

      await t.step("an admin snoozes the job for 4 hours from its page, then unsnoozes it", async () => {
        await page.goto(`${origin}/admin/jobs/exporter`);
        await page.getByRole("button", { name: "Snooze for 4 h" }).click();
        await page.waitForURL((url) => url.pathname === "/admin/jobs/exporter");
        await page.getByText(/Snoozed until/).waitFor();
        const [state] = await sql<{ snoozedUntil: Date; snoozedBy: string }[]>`
        SELECT snoozed_until, snoozed_by FROM job_alert_state WHERE job_id = 'exporter'
      `;
        assert.equal(state.snoozedUntil.getTime(), testApp.clock.now.getTime() + 4 * 3_600_000);
        assert.equal(state.snoozedBy, "ada@example.com");
        await page.getByRole("button", { name: "Unsnooze" }).click();
        await page.getByText("Not snoozed", { exact: false }).waitFor();
        const actions = await sql<{ action: string }[]>`
        SELECT action FROM audit_events WHERE action LIKE 'job.alerts_%' ORDER BY id
      `;
        assert.deepEqual(actions.map((a) => a.action), ["job.alerts_snoozed", "job.alerts_unsnoozed"]);
      });

      await t.step(
        "the alerts page and the job page fit a 375 px phone without horizontal scrolling",
        async () => {
          await page.setViewportSize({ width: 375, height: 800 });
          for (const path of ["/admin/alerts", "/admin/jobs/exporter"]) {
            await page.goto(`${origin}${path}`);
            const width = await page.evaluate(() => document.documentElement.scrollWidth);
            assert.ok(width <= 375, `${path} is ${width} px wide`);
          }
        },
      );

      assert.deepEqual(errors, [], "the browser reported errors");
      assert.deepEqual(dialogs, [], "no dialog opened (an injected alert() would)");
    } finally {
      await browser?.close();
      await server?.close();
      await testApp.close();
    }
  },
);
