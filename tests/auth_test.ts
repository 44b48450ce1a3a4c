import assert from "node:assert/strict";
import { hashSessionId } from "../lib/auth/session.ts";
import { MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_IP, SIGN_IN_WINDOW_MS } from "../lib/auth/signin.ts";
import type { Route } from "../routes/mod.ts";
import { routes } from "../routes/mod.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";

function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, ...headers },
    body: new URLSearchParams(fields),
  };
}

async function withApp(fn: (t: TestApp) => Promise<void>, options: Parameters<typeof createTestApp>[0] = {}) {
  const t = await createTestApp(options);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** A write route only for these tests, to exercise the admin guard on an API. */
const probeRoutes: Route[] = [
  ...routes,
  { method: "POST", path: "/api/admin/probe", access: "user", handler: (c) => c.json({ ok: true }) },
  { method: "GET", path: "/api/admin/probe", access: "user", handler: (c) => c.json({ ok: true }) },
];

Deno.test({
  name: "signing in sets an HttpOnly SameSite=Lax cookie, stores only its hash and audits it",
  ...dbTest,
  fn: () =>
    withApp(async ({ app, db }) => {
      const admin = await makeUser(db);
      const response = await app.request(
        "/login",
        form({ email: admin.email.toUpperCase(), password: admin.password }),
      );
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/admin/jobs");
      const cookie = response.headers.get("set-cookie")!;
      assert.match(cookie, /^jobwatch_session=[A-Za-z0-9_-]{43};/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.doesNotMatch(cookie, /Secure/);
      const id = cookie.split(";")[0].split("=")[1];
      const rows = await db.sql<{ idHash: string }[]>`SELECT id_hash FROM sessions`;
      assert.deepEqual(rows.map((r) => r.idHash), [await hashSessionId(id)]);
      const [event] = await db.sql<{ action: string; actorId: string }[]>`
        SELECT action, actor_id FROM audit_events WHERE action = 'auth.signed_in'
      `;
      assert.equal(event.actorId, admin.user.id);
      const page = await app.request("/admin/jobs", { headers: { cookie: cookie.split(";")[0] } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /No jobs defined yet/);
    }),
});

Deno.test({
  name: "over https the cookie is __Host- prefixed and Secure",
  ...dbTest,
  fn: () =>
    withApp(async ({ app, db }) => {
      const admin = await makeUser(db);
      const response = await app.request(
        "https://jobs.example.com/login",
        form({ email: admin.email, password: admin.password }, { origin: "https://jobs.example.com" }),
      );
      assert.equal(response.status, 303);
      const cookie = response.headers.get("set-cookie")!;
      assert.match(cookie, /^__Host-jobwatch_session=/);
      assert.match(cookie, /Secure/);
      assert.match(cookie, /Path=\//);
      assert.match(response.headers.get("strict-transport-security")!, /max-age=/);
    }, { env: { APP_URL: "https://jobs.example.com" } }),
});

Deno.test({
  name: "a wrong password and an unknown e-mail get the same 401 message, and no password is logged",
  ...dbTest,
  fn: () =>
    withApp(async ({ app, db, log }) => {
      const admin = await makeUser(db);
      const wrong = await app.request("/login", form({ email: admin.email, password: "not the password 1" }));
      const unknown = await app.request(
        "/login",
        form({ email: "nobody@example.com", password: "not the password 2" }),
      );
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      for (const body of [await wrong.text(), await unknown.text()]) {
        assert.match(body, /Wrong e-mail or password\./);
        assert.doesNotMatch(body, /not the password/);
      }
      assert.equal(wrong.headers.get("set-cookie"), null);
      const logged = log.lines.join("\n") + JSON.stringify(await db.sql`SELECT * FROM audit_events`);
      assert.doesNotMatch(logged, /not the password/);
    }),
});

Deno.test({
  name: "a sign-in form with missing fields or the wrong content type gets a clear 4xx",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const missing = await app.request("/login", form({ email: "a@example.com" }));
      assert.equal(missing.status, 400);
      assert.match(await missing.text(), /Enter your e-mail address and password|Enter your password/);
      const json = await app.request("/login", {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({ email: "a@example.com", password: "x" }),
      });
      assert.equal(json.status, 415);
    }),
});

Deno.test({
  name: "next= sends the user back to a local path only",
  ...dbTest,
  fn: () =>
    withApp(async ({ app, db }) => {
      const admin = await makeUser(db);
      const local = await app.request(
        "/login",
        form({ email: admin.email, password: admin.password, next: "/admin/jobs?status=failed" }),
      );
      assert.equal(local.headers.get("location"), "/admin/jobs?status=failed");
      for (
        const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
      ) {
        const response = await app.request(
          "/login",
          form({ email: admin.email, password: admin.password, next }),
        );
        assert.equal(response.headers.get("location"), "/admin/jobs", next);
      }
      const anonymous = await app.request("/admin/jobs?status=failed");
      assert.equal(anonymous.status, 303);
      assert.equal(anonymous.headers.get("location"), "/login?next=%2Fadmin%2Fjobs%3Fstatus%3Dfailed");
    }),
});

Deno.test({
  name: "every sign-in issues a new session id, and signing out revokes it server-side",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const admin = await makeUser(t.db);
      const first = await t.signIn(admin);
      const second = await t.signIn(admin);
      assert.notEqual(first, second);
      const out = await t.app.request("/logout", {
        method: "POST",
        headers: { cookie: first, origin: ORIGIN },
      });
      assert.equal(out.status, 303);
      assert.equal(out.headers.get("location"), "/login");
      assert.match(out.headers.get("set-cookie")!, /jobwatch_session=;.*Max-Age=0/);
      const replay = await t.app.request("/admin/jobs", { headers: { cookie: first } });
      assert.equal(replay.status, 303, "the old cookie no longer works");
      const other = await t.app.request("/admin/jobs", { headers: { cookie: second } });
      assert.equal(other.status, 200, "other sessions stay");
    }),
});

Deno.test({
  name: "a session ends after the idle timeout and after its absolute lifetime",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const admin = await makeUser(t.db);
      const idle = await t.signIn(admin);
      t.clock.advance(2 * 3600_000 - 1000);
      assert.equal((await t.app.request("/admin/jobs", { headers: { cookie: idle } })).status, 200);
      t.clock.advance(2 * 3600_000 - 1000);
      assert.equal(
        (await t.app.request("/admin/jobs", { headers: { cookie: idle } })).status,
        200,
        "activity extends it",
      );
      t.clock.advance(2 * 3600_000 + 1000);
      assert.equal(
        (await t.app.request("/admin/jobs", { headers: { cookie: idle } })).status,
        303,
        "idle too long",
      );

      const active = await t.signIn(admin);
      for (let hour = 0; hour < 25; hour++) {
        t.clock.advance(3600_000);
        const status = (await t.app.request("/admin/jobs", { headers: { cookie: active } })).status;
        if (hour < 23) assert.equal(status, 200, `hour ${hour}`);
        else assert.equal(status, 303, `past the 1-day lifetime at hour ${hour}`);
      }
    }, { env: { SESSION_IDLE_HOURS: "2", SESSION_MAX_DAYS: "1" } }),
});

Deno.test({
  name: "a forged or malformed session cookie is treated as no session",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      for (const value of ["A".repeat(43), "x", "'; DROP TABLE users; --", "%00%ff"]) {
        const response = await app.request("/admin/jobs", {
          headers: { cookie: `jobwatch_session=${value}` },
        });
        assert.equal(response.status, 303, value);
        assert.match(response.headers.get("location")!, /^\/login/);
      }
    }),
});

Deno.test({
  name: "sign-in is rate limited per account with a clear 429, even for the right password",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const admin = await makeUser(t.db);
      for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
        const response = await t.app.request(
          "/login",
          form({ email: admin.email, password: `wrong guess ${i}` }),
        );
        assert.equal(response.status, 401);
      }
      const limited = await t.app.request("/login", form({ email: admin.email, password: admin.password }));
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get("retry-after"), String(SIGN_IN_WINDOW_MS / 1000));
      assert.match(await limited.text(), /Too many failed sign-ins for this account\. Wait 15 minutes/);
      t.clock.advance(SIGN_IN_WINDOW_MS + 1000);
      assert.equal(
        (await t.app.request("/login", form({ email: admin.email, password: admin.password }))).status,
        303,
      );
    }),
});

Deno.test({
  name: "admin pages redirect anonymous users; admin APIs answer 401 JSON; viewers may read but not write",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const viewer = await makeUser(t.db, { role: "viewer" });
      const admin = await makeUser(t.db, { role: "admin" });
      const anonymousApi = await t.app.request("/api/admin/probe");
      assert.equal(anonymousApi.status, 401);
      assert.match((await anonymousApi.json()).error, /Sign in/);
      const viewerCookie = await t.signIn(viewer);
      assert.equal(
        (await t.app.request("/api/admin/probe", { headers: { cookie: viewerCookie } })).status,
        200,
      );
      assert.equal((await t.app.request("/admin/jobs", { headers: { cookie: viewerCookie } })).status, 200);
      const write = await t.app.request("/api/admin/probe", {
        method: "POST",
        headers: { cookie: viewerCookie, origin: ORIGIN },
      });
      assert.equal(write.status, 403);
      assert.match((await write.json()).error, /read-only/);
      const adminCookie = await t.signIn(admin);
      const adminWrite = await t.app.request("/api/admin/probe", {
        method: "POST",
        headers: { cookie: adminCookie, origin: ORIGIN },
      });
      assert.equal(adminWrite.status, 200);
    }, { routes: probeRoutes }),
});

Deno.test({
  name: "every route in the table under /admin or /api/admin is declared for signed-in users",
  fn: () => {
    for (const route of routes) {
      if (route.path.startsWith("/admin") || route.path.startsWith("/api/admin")) {
        assert.equal(route.access, "user", `${route.method} ${route.path}`);
      }
    }
  },
});

Deno.test({
  name: "sign-in is rate limited per client address across accounts, with its own message",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const admin = await makeUser(t.db);
      // Spread over enough accounts that no single account reaches its own limit.
      const accounts = await Promise.all(Array.from({ length: 6 }, () => makeUser(t.db, { role: "viewer" })));
      const from = (ip: string) => ({ "x-forwarded-for": ip });
      for (let i = 0; i < MAX_FAILURES_PER_IP; i++) {
        const response = await t.app.request(
          "/login",
          form({ email: accounts[i % accounts.length].email, password: "wrong guess" }, from("203.0.113.7")),
        );
        assert.equal(response.status, 401, `attempt ${i}`);
      }
      const limited = await t.app.request(
        "/login",
        form({ email: admin.email, password: admin.password }, from("203.0.113.7")),
      );
      assert.equal(limited.status, 429);
      assert.match(await limited.text(), /Too many failed sign-ins from your network/);
      const elsewhere = await t.app.request(
        "/login",
        form({ email: admin.email, password: admin.password }, from("198.51.100.1")),
      );
      assert.equal(elsewhere.status, 303, "another address is not affected");
    }, { env: { TRUST_PROXY: "true" } }),
});

Deno.test({
  name: "parallel wrong guesses cannot get past the per-account limit",
  ...dbTest,
  fn: () =>
    withApp(async (t) => {
      const admin = await makeUser(t.db);
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          t.app.request("/login", form({ email: admin.email, password: `guess ${i}` }))),
      );
      const checked = responses.filter((r) =>
        r.status === 401
      ).length;
      const limited = responses.filter((r) => r.status === 429).length;
      assert.equal(checked + limited, 40);
      assert.ok(checked <= MAX_FAILURES_PER_ACCOUNT, `${checked} passwords were checked`);
      await Promise.all(responses.map((r) => r.body?.cancel()));
    }),
});

Deno.test({
  name: "an e-mail with a NUL or another control character gets a 400, not a 500",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const response = await app.request(
        "/login",
        form({ email: "a\u0000@example.com", password: "whatever it is" }),
      );
      assert.equal(response.status, 400);
      assert.match(await response.text(), /contains characters it cannot have/);
    }),
});

Deno.test({
  name: "a route declared for signed-in users is guarded even outside /admin",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const page = await app.request("/reports");
      assert.equal(page.status, 303);
      assert.match(page.headers.get("location")!, /^\/login\?next=/);
    }, {
      routes: [...routes, {
        method: "GET",
        path: "/reports",
        access: "user",
        handler: (c) => c.text("secret"),
      }],
    }),
});
