/**
 * Browser end-to-end tests: real Chromium driven by playwright-core against
 * the app served over real HTTP. Where Debian's chromium is not installed the
 * tests are skipped with a visible note, unless E2E=1 (CI) demands them.
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { TestApp } from "./app.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags that keep Chromium quiet and offline; playwright adds --headless and a fresh profile. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

const MISSING = `${CHROMIUM_PATH} is missing (install Debian's chromium; CI sets E2E=1)`;

/** Whether the Chromium these tests drive is installed. */
export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

let skipNoticePrinted = false;

/**
 * Declares a browser test. Without Chromium it is ignored, with a note
 * printed once, unless E2E=1: then a missing browser fails the test, so CI
 * cannot pass by silently skipping it.
 */
export function e2eTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  const available = chromiumAvailable();
  const required = Deno.env.get("E2E") === "1";
  if (!available && !required && !skipNoticePrinted) {
    skipNoticePrinted = true;
    console.log(`Browser tests are skipped because ${MISSING}.`);
  }
  Deno.test({
    name,
    ignore: !available && !required,
    // Chromium, the HTTP server and the database outlive any single op.
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      if (!available) throw new Error(`E2E=1 requires the browser tests to run, but ${MISSING}.`);
      await fn(t);
    },
  });
}

/**
 * Starts headless Chromium. Playwright gives every launch its own temporary
 * user data dir (and every context its own cookies and storage), so tests
 * never see a profile from an earlier run; do not add --user-data-dir.
 */
export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface RunningServer {
  /** Origin without a trailing slash, e.g. http://127.0.0.1:43121. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a test app over HTTP on a free loopback port. The CSRF check
 * accepts the request's own origin, so this address works although the
 * app's APP_URL is http://localhost.
 */
export function startServer(testApp: TestApp): RunningServer {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request, info) => testApp.app.fetch(request, info),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

export interface WatchedPage {
  page: Page;
  /** Console errors (CSP violations among them) and uncaught page errors, as they happen. */
  errors: string[];
  /** Every URL the page requested, in order; clear it to watch one navigation. */
  requests: string[];
  /** The message of every dialog (alert, confirm, prompt) the page opened, each dismissed. */
  dialogs: string[];
}

/**
 * Opens a page that records errors, requests and dialogs. A document's own 4xx
 * status (a 401 for a wrong password) is the server's answer, checked by
 * the test, so Chromium's "Failed to load resource" line for it is not
 * counted; the same line for a stylesheet, script or image is.
 */
export async function openWatchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  const documents = new Set<string>();
  page.on("request", (request) => {
    requests.push(request.url());
    if (request.isNavigationRequest()) documents.add(request.url());
  });
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    if (text.startsWith("Failed to load resource") && documents.has(message.location().url)) return;
    errors.push(`console: ${text}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  // Playwright dismisses dialogs nobody listens for; this listener does the same, and keeps the message.
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  return { page, errors, requests, dialogs };
}

/** Polls `probe` every 20 ms until it returns a value, and fails after `timeoutMs`. */
export async function pollFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `condition` every 20 ms until it holds, and fails after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await pollFor(() => Promise.resolve(condition() || undefined), what, timeoutMs);
}
