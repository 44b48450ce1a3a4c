/**
 * Output safety in a real browser: markup and script in every value Jobwatch
 * stores and shows (job names and descriptions, a user's name, results,
 * errors, logs, metadata, token labels, alerts, audit entries) must arrive
 * as text on every page of the route table, with every history row opened.
 * A payload that ran sets `window.__xss`, adds a `[data-xss]` element or
 * opens a dialog; the page's CSP violations show up as console errors.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { defineJob } from "../../lib/jobs/define.ts";
import { createJobToken } from "../../lib/jobs/tokens.ts";
import { routes } from "../../routes/mod.ts";
import { createTestApp, makeUser, ORIGIN } from "../helpers/app.ts";
import {
  e2eTest,
  launchBrowser,
  openWatchedPage,
  type RunningServer,
  startServer,
} from "../helpers/browser.ts";

/** Closes an attribute, a <pre> and a <script>, then tries an element handler, a script and an SVG handler. */
const PAYLOAD = `"'></pre></script><img src=x data-xss onerror="window.__xss=1">` +
  `<script>window.__xss=2</script><svg data-xss onload="window.__xss=3"></svg>{{constructor.constructor('window.__xss=4')()}}`;

const jobs = [
  defineJob({
    id: "failing",
    displayName: `Failing ${PAYLOAD}`,
    description: `Fails with ${PAYLOAD}`,
    schedule: "rate(1 hour)",
    run: ({ log }) => {
      log.info(PAYLOAD, { detail: PAYLOAD });
      throw new Error(PAYLOAD);
    },
  }),
  defineJob({
    id: "succeeding",
    displayName: `Succeeding ${PAYLOAD}`,
    schedule: "rate(1 hour)",
    run: ({ log }) => {
      log.warn(PAYLOAD);
      return { [PAYLOAD]: PAYLOAD, count: 3, nested: { html: PAYLOAD } };
    },
  }),
  defineJob({ id: "external", external: true, displayName: `External ${PAYLOAD}`, schedule: "rate(1 day)" }),
];

e2eTest("markup in every stored value is shown as text on every page, and no script runs", async (t) => {
  const testApp = await createTestApp({ jobs });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = startServer(testApp);
    const origin = server.url;
    const admin = await makeUser(testApp.db, { role: "admin", name: `Ada ${PAYLOAD}` });
    const cookie = await testApp.signIn(admin);
    const post = async (
      path: string,
      body: BodyInit,
      contentType: string,
      headers: Record<string, string> = {},
    ) => {
      const response = await testApp.app.request(path, {
        method: "POST",
        headers: { cookie, origin: ORIGIN, "content-type": contentType, ...headers },
        body,
      });
      await response.body?.cancel();
      assert.ok(response.status < 400, `${path}: ${response.status}`);
      return response;
    };

    // Values arrive the way users and jobs put them there: runs, a token label, an external report.
    for (const jobId of ["failing", "succeeding", "failing"]) {
      await post(`/api/admin/jobs/${jobId}/trigger`, "{}", "application/json");
      await testApp.deps.jobs.runner.settle();
      testApp.clock.advance(1000);
    }
    await post(
      "/admin/jobs/external/tokens",
      new URLSearchParams({ label: PAYLOAD }),
      "application/x-www-form-urlencoded",
    );
    const [{ id: tokenId }] = await testApp.db.sql<{ id: string }[]>`SELECT id FROM job_tokens`;
    const { token } = await createJobToken(testApp.db.sql, "external");
    const reported = await testApp.app.request("/api/runs/external", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        status: "failed",
        error: PAYLOAD,
        result: { [PAYLOAD]: PAYLOAD },
        log: PAYLOAD,
        durationMs: 1200,
      }),
    });
    assert.equal(reported.status, 201, await reported.text());
    const executions = await testApp.db.sql<{ id: string }[]>`SELECT id FROM job_executions`;
    assert.equal(executions.length, 4);
    const alerts = await testApp.db.sql`SELECT 1 FROM alerts`;
    assert.ok(alerts.length >= 2, "the failures raised alerts");

    // Every page of the admin area, with each of its parameters filled by a real id.
    const pages = new Set<string>();
    for (const route of routes.filter((r) => r.method === "GET" && r.access === "user")) {
      if (route.path.startsWith("/api/")) continue;
      if (route.path.includes(":jobId")) {
        jobs.forEach((job) => pages.add(route.path.replace(":jobId", job.id)));
      } else if (route.path.includes(":id")) {
        executions.forEach(({ id }) => pages.add(route.path.replace(":id", id)));
      } else pages.add(route.path);
    }
    assert.ok(pages.size >= 10, `${pages.size} pages`);

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: "jobwatch_session", value: cookie.split("=")[1], url: origin }]);
    const { page, errors, dialogs } = await openWatchedPage(context);

    for (const path of pages) {
      await t.step(path.replace(/[0-9a-f-]{36}/, ":id").replace(tokenId, ":tokenId"), async () => {
        const response = await page.goto(`${origin}${path}`);
        assert.equal(response?.status(), 200, path);
        // Open every history row, so the details the island renders from JSON are on the page too.
        const toggles = page.locator("button[aria-controls^='execution-']");
        for (let i = 0; i < await toggles.count(); i++) {
          await toggles.nth(i).click();
          await page.locator(`#${await toggles.nth(i).getAttribute("aria-controls")}`).getByText(/./).first()
            .waitFor();
        }
        assert.equal(await page.locator("[data-xss]").count(), 0, `${path}: a payload became an element`);
        assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined, path);
        const text = await page.locator("body").innerText();
        assert.ok(text.includes("<img src=x data-xss"), `${path} shows the payload as text`);
      });
    }
    assert.deepEqual(dialogs, [], "a dialog opened: script ran from data");
    assert.deepEqual(errors, [], "the browser reported errors (a CSP violation among them?)");
  } finally {
    await browser?.close();
    await server?.close();
    await testApp.close();
  }
});
