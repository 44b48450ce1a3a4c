import assert from "node:assert/strict";
import { createTestApp, dbTest, makeUser, ORIGIN } from "./helpers/app.ts";

Deno.test({
  name: "a write carrying a session must come from our own origin",
  ...dbTest,
  fn: async () => {
    const t = await createTestApp();
    try {
      const admin = await makeUser(t.db);
      const logout = async (headers: Record<string, string>) => {
        const cookie = await t.signIn(admin);
        const response = await t.app.request("/logout", { method: "POST", headers: { cookie, ...headers } });
        const stillSignedIn = (await t.app.request("/admin/jobs", { headers: { cookie } })).status === 200;
        return {
          status: response.status,
          stillSignedIn,
          body: response.status === 403 ? await response.text() : "",
        };
      };

      const crossSite = await logout({ origin: "https://evil.example" });
      assert.equal(crossSite.status, 403);
      assert.ok(crossSite.stillSignedIn, "a refused request changes nothing");
      assert.match(crossSite.body, /Refused a cross-origin request: it came from https:\/\/evil\.example/);

      assert.equal((await logout({ origin: "null" })).status, 403);
      assert.equal((await logout({ "sec-fetch-site": "cross-site" })).status, 403);
      assert.equal((await logout({ "sec-fetch-site": "same-site" })).status, 403);
      const bare = await logout({});
      assert.equal(bare.status, 403, "neither Origin nor Sec-Fetch-Site");
      assert.match(bare.body, /no Origin header/);

      const sameOrigin = await logout({ origin: ORIGIN });
      assert.equal(sameOrigin.status, 303);
      assert.equal(sameOrigin.stillSignedIn, false);
      assert.equal((await logout({ "sec-fetch-site": "same-origin" })).status, 303);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "the check holds whatever the content type, and reads never need it",
  ...dbTest,
  fn: async () => {
    const t = await createTestApp();
    try {
      const cookie = await t.signIn(await makeUser(t.db));
      for (const type of ["text/plain", "application/json", "multipart/form-data; boundary=x"]) {
        const response = await t.app.request("/logout", {
          method: "POST",
          headers: { cookie, origin: "https://evil.example", "content-type": type },
          body: "x",
        });
        assert.equal(response.status, 403, type);
      }
      const read = await t.app.request("/admin/jobs", {
        headers: { cookie, origin: "https://evil.example" },
      });
      assert.equal(read.status, 200);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "another site cannot sign a browser in, but a script without Origin can",
  ...dbTest,
  fn: async () => {
    const t = await createTestApp();
    try {
      const admin = await makeUser(t.db);
      const body = new URLSearchParams({ email: admin.email, password: admin.password });
      const forged = await t.app.request("/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
        body,
      });
      assert.equal(forged.status, 403);
      assert.equal(forged.headers.get("set-cookie"), null);
      const script = await t.app.request("/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      assert.equal(script.status, 303);
    } finally {
      await t.close();
    }
  },
});
