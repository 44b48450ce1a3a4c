import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MAX_BODY_BYTES } from "../lib/app.ts";
import { routes } from "../routes/mod.ts";
import { createTestApp, dbTest, makeUser, ORIGIN, type TestApp } from "./helpers/app.ts";

async function withApp(fn: (t: TestApp) => Promise<void>, options: Parameters<typeof createTestApp>[0] = {}) {
  const t = await createTestApp(options);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

Deno.test({
  name: "pages carry a CSP without inline script, and the other security headers",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const response = await app.request("/login");
      const csp = response.headers.get("content-security-policy")!;
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      // The page's one style tag is allowed by the hash of exactly its content.
      const hash = /style-src 'self' 'sha256-([^']+)'/.exec(csp)![1];
      const style = /<style>([^<]*)<\/style>/.exec(await response.text())![1];
      assert.equal(hash, createHash("sha256").update(style).digest("base64"));
      assert.equal(response.headers.get("x-frame-options"), "DENY");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("referrer-policy"), "same-origin");
      assert.equal(response.headers.get("strict-transport-security"), null, "not over plain http");
      const json = await app.request("/api/admin/jobs");
      assert.equal(json.headers.get("content-security-policy"), csp.replace(/ 'sha256-[^']+'/, ""));
    }),
});

Deno.test({
  name: "an unknown path gets a 404 page for browsers and JSON for the API",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const page = await app.request("/no/such/page", { headers: { accept: "text/html" } });
      assert.equal(page.status, 404);
      assert.match(page.headers.get("content-type")!, /text\/html/);
      assert.match(await page.text(), /Page not found/);
      const api = await app.request("/api/nothing");
      assert.equal(api.status, 404);
      assert.match((await api.json()).error, /There is no page at \/api\/nothing/);
    }),
});

Deno.test({
  name: "a method an address does not accept gets 405 naming the ones it does, in an Allow header",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const response = await app.request("/login", { method: "DELETE", headers: { origin: ORIGIN } });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get("allow"), "GET, POST, HEAD");
      assert.match(
        await response.text(),
        /DELETE is not supported here; this address accepts GET, POST, HEAD/,
      );
      const api = await app.request("/api/runs/nightly/start", { method: "GET" });
      assert.equal(api.status, 405);
      assert.equal(api.headers.get("allow"), "POST");
      assert.match((await api.json()).error, /GET is not supported here/);
      // A path no route has is still a 404, whatever the method.
      assert.equal(
        (await app.request("/api/runs", { method: "PUT", headers: { origin: ORIGIN } })).status,
        404,
      );
    }),
});

Deno.test({
  name: "an unexpected error gives a 500 page with a reference and no stack trace, and is logged",
  ...dbTest,
  fn: () =>
    withApp(async ({ app, log }) => {
      const response = await app.request("/boom", { headers: { accept: "text/html" } });
      assert.equal(response.status, 500);
      const body = await response.text();
      assert.match(body, /Something went wrong/);
      assert.doesNotMatch(body, /secret internal detail|at .*\.ts:\d+/);
      const requestId = response.headers.get("x-request-id")!;
      assert.ok(body.includes(requestId));
      assert.ok(
        log.lines.some((line) => line.includes(requestId) && line.includes("secret internal detail")),
      );
      const api = await app.request("/api/boom");
      assert.deepEqual(await api.json(), {
        error: "Jobwatch hit an unexpected error. It has been logged; please try again.",
      });
    }, {
      routes: [
        ...routes,
        {
          method: "GET",
          path: "/boom",
          access: "public",
          handler: () => {
            throw new Error("secret internal detail");
          },
        },
        {
          method: "GET",
          path: "/api/boom",
          access: "public",
          handler: () => {
            throw new Error("secret internal detail");
          },
        },
      ],
    }),
});

Deno.test({
  name: "a body over the limit gets 413 before it is read",
  ...dbTest,
  fn: () =>
    withApp(async ({ app, db }) => {
      const cookie = await createCookie(app, db);
      const big = new Uint8Array(10 * 1024 * 1024).fill(97);
      for (const path of ["/login", "/logout"]) {
        const response = await app.request(path, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie },
          body: big,
        });
        assert.equal(response.status, 413, path);
        assert.match(await response.text(), new RegExp(`limited to ${MAX_BODY_BYTES / 1024} KB`));
      }
      assert.equal(
        (await app.request("/admin/jobs", { headers: { cookie } })).status,
        200,
        "still signed in",
      );
    }),
});

async function createCookie(app: TestApp["app"], db: TestApp["db"]): Promise<string> {
  const admin = await makeUser(db);
  const response = await app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
    body: new URLSearchParams({ email: admin.email, password: admin.password }),
  });
  return response.headers.get("set-cookie")!.split(";")[0];
}

Deno.test({
  name: "static files are served with cache headers; hashed island bundles are immutable",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const icon = await app.request("/static/favicon.svg");
      assert.equal(icon.status, 200);
      assert.match(icon.headers.get("content-type")!, /^image\/svg\+xml/);
      assert.equal(icon.headers.get("cache-control"), "public, max-age=3600");
      await icon.body?.cancel();
      const login = await (await app.request("/login")).text();
      const boot = /<script type="module" src="([^"]+)"/.exec(login)![1];
      const bundle = await app.request(boot, { headers: { "accept-encoding": "gzip" } });
      assert.equal(bundle.status, 200);
      assert.match(bundle.headers.get("content-type")!, /javascript/);
      assert.equal(bundle.headers.get("cache-control"), "public, max-age=31536000, immutable");
      await bundle.body?.cancel();
      assert.equal((await app.request("/static/_islands/manifest.json")).status, 404);
      assert.equal((await app.request("/static/nope.css")).status, 404);
    }),
});

Deno.test({
  name: "paths with .. under /static are refused with 400, even encoded",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      // URL parsing already resolves a literal or %2e%2e segment, so that request never
      // reaches /static/ (404); an encoded slash survives parsing and must be refused here.
      const resolved = await app.request("http://localhost/static/%2e%2e/deno.json");
      assert.equal(resolved.status, 404);
      assert.doesNotMatch(await resolved.text(), /nodeModulesDir/);
      for (
        const path of [
          "/static/..%2fdeno.json",
          "/static/_islands/..%2f..%2fmain.ts",
          "/static/%2e%2e%5cdeno.json",
        ]
      ) {
        const response = await app.request(`http://localhost${path}`);
        assert.equal(response.status, 400, path);
        assert.match(await response.text(), /may not contain '\.\.'/);
      }
    }),
});

Deno.test({
  name: "over a real socket, a raw ../ path cannot read files outside static/",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) =>
        app.fetch(req, info));
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
        await conn.write(
          new TextEncoder().encode(
            "GET /static/../deno.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
          ),
        );
        const chunks: Uint8Array[] = [];
        for await (const chunk of conn.readable) {
          chunks.push(chunk);
        }
        const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
        assert.match(text, /^HTTP\/1\.1 (400|404)/);
        assert.doesNotMatch(text, /nodeModulesDir/);
      } finally {
        await server.shutdown();
      }
    }),
});

Deno.test({
  name: "pages are compressed when the browser accepts gzip",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const response = await app.request("/login", { headers: { "accept-encoding": "gzip" } });
      assert.equal(response.headers.get("content-encoding"), "gzip");
      await response.body?.cancel();
    }),
});

Deno.test({
  name: "/ redirects to the dashboard",
  ...dbTest,
  fn: () =>
    withApp(async ({ app }) => {
      const response = await app.request("/");
      assert.equal(response.status, 303);
      assert.equal(response.headers.get("location"), "/admin/jobs");
    }),
});
