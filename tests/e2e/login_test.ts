import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { createTestApp, makeUser, type Persona } from "../helpers/app.ts";
import {
  e2eTest,
  launchBrowser,
  openWatchedPage,
  type RunningServer,
  startServer,
  type WatchedPage,
} from "../helpers/browser.ts";

const DESKTOP = { width: 1280, height: 800 };

interface Visit extends WatchedPage {
  admin: Persona;
  url(path: string): string;
}

function pathOf(page: Page): string {
  const url = new URL(page.url());
  return url.pathname + url.search;
}

/** Submits the sign-in form; the caller waits for the outcome it expects. */
async function submitSignIn({ page }: Visit, email: string, password: string): Promise<void> {
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const onDashboard = (url: URL) => url.pathname === "/admin/jobs";

e2eTest("signing in and out in a real browser", async (t) => {
  const testApp = await createTestApp();
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = startServer(testApp);
    const origin = server.url;
    const admin = await makeUser(testApp.db, { role: "admin" });
    browser = await launchBrowser();
    const launched = browser;

    /** Runs one step in a fresh context (no cookies) and fails it on any browser error. */
    const inFreshContext = async (
      viewport: { width: number; height: number },
      body: (visit: Visit) => Promise<void>,
    ) => {
      const context = await launched.newContext({ viewport });
      try {
        const watched = await openWatchedPage(context);
        await body({ ...watched, admin, url: (path) => origin + path });
        assert.deepEqual(watched.errors, [], "the browser reported errors");
      } finally {
        await context.close();
      }
    };

    await t.step(
      "an anonymous visit to the dashboard lands on sign-in with a way back",
      () =>
        inFreshContext(DESKTOP, async ({ page, url }) => {
          await page.goto(url("/admin/jobs"));
          assert.equal(pathOf(page), "/login?next=%2Fadmin%2Fjobs");
        }),
    );

    await t.step(
      "the password field hydrates and its toggle shows and hides the password",
      () =>
        inFreshContext(DESKTOP, async ({ page, url }) => {
          await page.goto(url("/login"));
          const password = page.getByLabel("Password", { exact: true });
          assert.equal(await password.getAttribute("type"), "password");
          // The toggle renders only once the island has hydrated.
          const show = page.getByRole("button", { name: "Show password" });
          await show.waitFor({ state: "visible", timeout: 10_000 });
          await show.click();
          const hide = page.getByRole("button", { name: "Hide password" });
          await hide.waitFor({ state: "visible" });
          assert.equal(await password.getAttribute("type"), "text");
          assert.equal(await hide.getAttribute("aria-pressed"), "true");
          await hide.click();
          assert.equal(await password.getAttribute("type"), "password");
        }),
    );

    await t.step(
      "a wrong password shows an error and stays on sign-in",
      () =>
        inFreshContext(DESKTOP, async (visit) => {
          const { page } = visit;
          await page.goto(visit.url("/login"));
          await submitSignIn(visit, admin.email, "not the password");
          const alert = page.getByRole("alert");
          await alert.waitFor();
          assert.equal((await alert.textContent())?.trim(), "Wrong e-mail or password.");
          assert.equal(pathOf(page), "/login");
          assert.equal(await page.getByLabel("E-mail").inputValue(), admin.email);
        }),
    );

    await t.step(
      "an admin signs in; a page without islands loads no script; signing out ends the session",
      () =>
        inFreshContext(DESKTOP, async (visit) => {
          const { page, requests } = visit;
          await page.goto(visit.url("/admin/jobs"));
          await page.getByRole("button", { name: "Show password" }).waitFor();

          requests.length = 0;
          await submitSignIn(visit, admin.email, admin.password);
          await page.waitForURL(onDashboard);
          assert.equal(pathOf(page), "/admin/jobs");
          assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Scheduled jobs");
          assert.equal(await page.getByRole("heading", { name: "No jobs defined yet" }).count(), 1);
          assert.match((await page.getByTestId("current-user").textContent()) ?? "", /^Ada Admin\b/);

          // The audit log has no islands, so it loads no JavaScript at all. (The dashboard's own
          // bundles must have arrived first, or their requests would count against the audit log.)
          await page.waitForFunction(() =>
            Array.from(document.querySelectorAll<HTMLElement>("jw-island"))
              .every((island) => island.dataset.hydrated === "true")
          );
          requests.length = 0;
          await page.getByRole("link", { name: "Audit log" }).click();
          await page.waitForURL((url) => url.pathname === "/admin/audit");
          assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Audit log");
          assert.equal(await page.evaluate(() => document.scripts.length), 0);
          assert.equal(await page.locator("link[rel=modulepreload]").count(), 0);
          const scripts = requests.filter((request) => new URL(request).pathname.endsWith(".js"));
          assert.deepEqual(scripts, [], "the audit log requested JavaScript");

          // E2E_SCREENSHOT_DIR=/tmp/somewhere keeps a picture to look at; tests never compare pixels.
          const screenshotDir = Deno.env.get("E2E_SCREENSHOT_DIR");
          if (screenshotDir) {
            await page.screenshot({ path: `${screenshotDir}/dashboard-empty.png`, fullPage: true });
          }

          const context = page.context();
          const signedIn = await context.cookies();
          assert.equal(signedIn.length, 1);
          await page.getByRole("button", { name: "Sign out" }).click();
          await page.waitForURL((to) => to.pathname === "/login");
          assert.deepEqual(await context.cookies(), []);

          await page.goto(visit.url("/admin/jobs"));
          assert.equal(pathOf(page), "/login?next=%2Fadmin%2Fjobs");
          // Replaying the old cookie shows the server ended the session, not just the browser.
          await context.addCookies(signedIn);
          await page.goto(visit.url("/admin/jobs"));
          assert.equal(pathOf(page), "/login?next=%2Fadmin%2Fjobs");
        }),
    );

    await t.step({
      name: "Back after signing out does not show the dashboard from the browser's cache",
      // Signed-in pages are sent with Cache-Control: no-store, so Back must refetch them.
      fn: () =>
        inFreshContext(DESKTOP, async (visit) => {
          const { page } = visit;
          await page.goto(visit.url("/login"));
          await submitSignIn(visit, admin.email, admin.password);
          await page.waitForURL(onDashboard);
          assert.equal(pathOf(page), "/admin/jobs");
          await page.getByRole("button", { name: "Sign out" }).click();
          await page.waitForURL((to) => to.pathname === "/login");
          await page.goBack();
          assert.equal(await page.getByText("Scheduled jobs").count(), 0);
        }),
    });

    await t.step(
      "the sign-in page fits a 375 px wide phone screen without horizontal scroll",
      () =>
        inFreshContext({ width: 375, height: 740 }, async ({ page, url }) => {
          await page.goto(url("/login"));
          await page.getByRole("button", { name: "Show password" }).waitFor();
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= 375, `the sign-in page is ${width} px wide`);
        }),
    );
  } finally {
    await browser?.close();
    await server?.close();
    await testApp.close();
  }
});
