/**
 * `deno task screenshot`: renders the dashboard with the example jobs and
 * two days of example history in headless Chromium, and writes
 * docs/dashboard.png (the README's screenshot). Uses an in-memory
 * database; nothing is kept.
 */
import { exampleJobs } from "../lib/jobs/examples/mod.ts";
import { createTestApp, makeUser } from "../tests/helpers/app.ts";
import { launchBrowser, startServer } from "../tests/helpers/browser.ts";

const OUTPUT = new URL("../docs/dashboard.png", import.meta.url);
const HISTORY_HOURS = 48;

/** A deterministic pseudo-random sequence, so the screenshot only changes when the UI does. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32;
  };
}

const RESULTS: Record<string, (random: () => number) => unknown> = {
  "weekly-digest": (random) => ({ sent: 1180 + Math.round(random() * 40), failed: Math.round(random() * 3) }),
  "payment-retry": (random) => ({ retried: Math.round(random() * 12), recovered: Math.round(random() * 8) }),
  "session-cleanup": (random) => ({ deleted: Math.round(random() * 400) }),
  "usage-report": (random) => ({ accounts: 312, rows: 9000 + Math.round(random() * 900) }),
  "nightly-backup": (random) => ({ bytes: 2_400_000_000 + Math.round(random() * 1e8) }),
};

async function seedHistory(sql: Awaited<ReturnType<typeof createTestApp>>["db"]["sql"], now: Date) {
  const random = seeded(42);
  for (const job of exampleJobs) {
    let occurrence = job.schedule.previous(now);
    const since = now.getTime() - HISTORY_HOURS * 3600_000;
    while (occurrence && occurrence.getTime() > since) {
      const fails = job.id === "payment-retry" && occurrence.getTime() > now.getTime() - 3 * 3600_000;
      const durationMs = Math.round((job.id === "nightly-backup" ? 240_000 : 800) * (0.6 + random()));
      await sql`
        INSERT INTO job_executions (job_id, period_key, execution_id, status, trigger, started_at, completed_at,
                                    result, error_message)
        VALUES (${job.id}, ${job.schedule.periodKey(occurrence)}, ${crypto.randomUUID()},
                ${fails ? "failed" : "completed"}, ${job.external ? "external" : "scheduled"}, ${occurrence},
                ${new Date(occurrence.getTime() + durationMs)},
                ${fails ? null : sql.json((RESULTS[job.id]?.(random) ?? { ok: true }) as never)},
                ${fails ? "Stripe API returned 503 Service Unavailable (request req_8KX2…)" : null})
      `;
      occurrence = job.schedule.previous(occurrence);
    }
  }
}

const testApp = await createTestApp({ jobs: exampleJobs });
const server = startServer(testApp);
const browser = await launchBrowser();
try {
  await seedHistory(testApp.db.sql, testApp.clock.now);
  const admin = await makeUser(testApp.db, { role: "admin", name: "Ada Lovelace" });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1500 }, colorScheme: "light" });
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel("E-mail").fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/admin/jobs");
  await page.locator("jw-island[data-hydrated]").first().waitFor();
  await page.screenshot({ path: OUTPUT.pathname, fullPage: false });
  console.log(`Wrote ${OUTPUT.pathname}`);
} finally {
  await browser.close();
  await server.close();
  await testApp.close();
}
