/**
 * Hostile input, walked over the route table: every route, as anonymous, a
 * viewer and an admin, gets wrong methods, malformed and hostile parameters,
 * 10 MB bodies, invalid UTF-8, huge and negative numbers, unknown enum values
 * and forged cursors. Nothing may answer 500; every 4xx must say what was
 * wrong; and a rejected request must leave the database as it was.
 *
 * The cases are generated from `routes/mod.ts`, so a new route is walked
 * without anyone remembering to add it here.
 */
import assert from "node:assert/strict";
import { startSession } from "../lib/auth/session.ts";
import { defineJob } from "../lib/jobs/define.ts";
import { createJobToken } from "../lib/jobs/tokens.ts";
import { type Route, routes } from "../routes/mod.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type Persona, type TestApp } from "./helpers/app.ts";
import { makeExecution } from "./helpers/fixtures.ts";
import { fingerprint } from "./helpers/fingerprint.ts";
import { BODIES, HOSTILE_TEXT, QUERY_NAMES, SHARP_TEXT } from "./helpers/hostile.ts";

const jobs = [
  defineJob({ id: "digest", schedule: "rate(1 hour)", displayName: "Digest", run: () => ({ sent: 1 }) }),
  defineJob({ id: "backup", external: true, schedule: "cron(0 2 * * ? *)", displayName: "Backup" }),
];

type PersonaName = "anonymous" | "viewer" | "admin";

interface Walk {
  t: TestApp;
  /** Real ids for each path parameter, so hostile bodies and queries reach the handlers. */
  validParams: Record<string, string>;
  token: string;
  cookies: Record<PersonaName, string | null>;
  personas: Record<Exclude<PersonaName, "anonymous">, Persona>;
  failures: string[];
  requests: number;
}

async function setUp(): Promise<Walk> {
  const t = await createTestApp({ jobs });
  const admin = await makeUser(t.db, { role: "admin" });
  const viewer = await makeUser(t.db, { role: "viewer" });
  const { token, record } = await createJobToken(t.db.sql, "backup", { label: "walk" });
  const executionId = await makeExecution(t.db.sql, {
    jobId: "digest",
    startedAt: new Date(Date.now() - 3_600_000),
    status: "failed",
    durationMs: 1200,
    errorMessage: "boom",
  });
  const walk: Walk = {
    t,
    validParams: { jobId: "digest", id: executionId, tokenId: record.id, file: "digest.svg" },
    token,
    cookies: { anonymous: null, viewer: null, admin: null },
    personas: { admin, viewer },
    failures: [],
    requests: 0,
  };
  await refreshSession(walk, "admin");
  await refreshSession(walk, "viewer");
  return walk;
}

async function refreshSession(walk: Walk, name: "admin" | "viewer"): Promise<void> {
  const id = await startSession(walk.t.deps, walk.personas[name].user, { ip: null, userAgent: null });
  walk.cookies[name] = `jobwatch_session=${id}`;
}

function pathWith(route: Route, params: (name: string) => string): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => params(name));
}

/** True when a 4xx response says what was wrong: a JSON `error`, or a page with its message. */
async function explains(response: Response): Promise<boolean> {
  const type = response.headers.get("content-type") ?? "";
  const text = await response.text();
  if (type.includes("application/json")) {
    const body = JSON.parse(text);
    return typeof body.error === "string" && body.error.trim().length >= 8;
  }
  if (type.includes("text/html")) {
    // An error page, a form's alert, or a filter's message next to its field.
    return /<p class="text-sm font-semibold text-gray-500">Error \d{3}<\/p>/.test(text) ||
      /role="(alert|status)"[^>]*>(\s*<[^>]+>)?[^<]{8,}/.test(text) ||
      /data-testid="error-[\w-]+"[^>]*>[^<]{8,}/.test(text);
  }
  return false;
}

/**
 * Sends one request and checks the answer: no 5xx, a message with every 4xx,
 * and no change in the database when it was refused.
 */
async function probe(
  walk: Walk,
  persona: PersonaName,
  label: string,
  path: string,
  init: { method: string; contentType?: string; body?: BodyInit; token?: boolean } = { method: "GET" },
): Promise<void> {
  const { t } = walk;
  const headers: Record<string, string> = { origin: ORIGIN };
  const cookie = walk.cookies[persona];
  if (cookie) headers.cookie = cookie;
  if (init.contentType) headers["content-type"] = init.contentType;
  if (init.token) headers.authorization = `Bearer ${walk.token}`;
  const before = await fingerprint(t.db.sql);
  const where = `${persona} ${init.method} ${path.slice(0, 120)} (${label})`;
  walk.requests++;
  let response: Response;
  try {
    response = await t.app.request(path, { method: init.method, headers, body: init.body });
  } catch (error) {
    walk.failures.push(`${where}: threw ${error}`);
    return;
  }
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    await response.body?.cancel();
  } else if (response.status >= 500) {
    walk.failures.push(`${where}: ${response.status} ${(await response.text()).slice(0, 200)}`);
  } else if (response.status >= 400 && !(await explains(response.clone()))) {
    walk.failures.push(
      `${where}: ${response.status} without a message: ${(await response.text()).slice(0, 200)}`,
    );
  } else {
    await response.body?.cancel();
  }
  if (response.status >= 400) {
    const after = await fingerprint(t.db.sql);
    if (after !== before) {
      walk.failures.push(`${where}: refused with ${response.status} but changed the database`);
    }
  } else {
    // An accepted write may start a run in the background: let it finish before the next comparison.
    await t.deps.jobs.runner.settle();
  }
  if (
    /jobwatch_session=;|Max-Age=0/i.test(response.headers.get("set-cookie") ?? "") && persona !== "anonymous"
  ) {
    await refreshSession(walk, persona);
  }
}

const PERSONAS: PersonaName[] = ["anonymous", "viewer", "admin"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

Deno.test({
  name: "every route survives hostile paths and queries as anonymous, viewer and admin",
  ...dbTest,
  fn: async () => {
    const walk = await setUp();
    try {
      for (const route of routes) {
        const usesToken = route.path.startsWith("/api/runs/");
        for (const persona of PERSONAS) {
          const valid = pathWith(route, (name) => walk.validParams[name] ?? "x");
          // Each hostile value in each path parameter, the others valid.
          for (const name of route.path.match(/:([A-Za-z]+)/g) ?? []) {
            for (const value of HOSTILE_TEXT) {
              const path = pathWith(route, (other) => `:${other}` === name ? value : walk.validParams[other]);
              await probe(walk, persona, `${name} = ${value.slice(0, 40)}`, path, {
                method: route.method,
                token: usesToken,
              });
            }
          }
          // Each hostile value in every query parameter at once…
          for (const value of HOSTILE_TEXT) {
            const query = QUERY_NAMES.map((name) => `${name}=${value}`).join("&");
            await probe(walk, persona, `every query parameter = ${value.slice(0, 40)}`, `${valid}?${query}`, {
              method: route.method,
              token: usesToken,
            });
          }
          // …and, for a signed-in admin, one parameter at a time.
          if (persona !== "admin" || route.method !== "GET") continue;
          for (const name of QUERY_NAMES) {
            for (const value of SHARP_TEXT) {
              await probe(walk, persona, `${name} = ${value.slice(0, 40)}`, `${valid}?${name}=${value}`);
            }
          }
        }
      }
      assert.ok(walk.requests > 3000, `only ${walk.requests} requests were sent`);
      assert.deepEqual(walk.failures, []);
    } finally {
      await walk.t.close();
    }
  },
});

Deno.test({
  name: "every write route survives hostile bodies as anonymous, viewer and admin",
  ...dbTest,
  fn: async () => {
    const walk = await setUp();
    try {
      for (const route of routes.filter((route) => route.method !== "GET")) {
        const usesToken = route.path.startsWith("/api/runs/");
        const path = pathWith(route, (name) => walk.validParams[name]);
        for (const persona of PERSONAS) {
          for (const body of BODIES) {
            await probe(walk, persona, body.label, path, {
              method: route.method,
              contentType: body.contentType,
              body: body.body(),
              token: usesToken,
            });
          }
        }
      }
      assert.ok(walk.requests > 500, `only ${walk.requests} requests were sent`);
      assert.deepEqual(walk.failures, []);
    } finally {
      await walk.t.close();
    }
  },
});

Deno.test({
  name: "a method a path does not declare gets 405 naming the declared ones, and changes nothing",
  ...dbTest,
  fn: async () => {
    const walk = await setUp();
    try {
      const declared = new Map<string, Set<string>>();
      for (const route of routes) {
        const methods = declared.get(route.path) ?? new Set<string>();
        methods.add(route.method);
        declared.set(route.path, methods);
      }
      for (const [template, methods] of declared) {
        const path = pathWith({ path: template } as Route, (name) => walk.validParams[name]);
        for (const method of METHODS.filter((method) => !methods.has(method))) {
          for (const persona of PERSONAS) {
            await probe(walk, persona, "a method the route does not declare", path, {
              method,
              contentType: "application/json",
              body: method === "GET" ? undefined : "{}",
            });
          }
          const response = await walk.t.app.request(path, {
            method,
            headers: { origin: ORIGIN, cookie: walk.cookies.admin! },
          });
          await response.body?.cancel();
          assert.equal(response.status, 405, `${method} ${template}`);
          const allow = response.headers.get("allow")?.split(", ").filter((name) => name !== "HEAD").sort();
          assert.deepEqual(allow, [...methods].sort(), `Allow for ${template}`);
        }
      }
      assert.ok(walk.requests > 100, `only ${walk.requests} requests were sent`);
      assert.deepEqual(walk.failures, []);
    } finally {
      await walk.t.close();
    }
  },
});
