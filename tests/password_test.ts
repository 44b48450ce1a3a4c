import assert from "node:assert/strict";
import { hashPassword, OWASP_COST, passwordProblem, verifyPassword } from "../lib/auth/password.ts";
import { TEST_COST } from "./helpers/app.ts";

Deno.test("passwords are hashed with scrypt at OWASP's cost by default, with a salt per hash", async () => {
  assert.deepEqual(OWASP_COST, { N: 131072, r: 8, p: 1 });
  const hash = await hashPassword("correct horse battery staple");
  const [scheme, N, r, p, salt, key] = hash.split("$");
  assert.deepEqual([scheme, N, r, p], ["scrypt", "131072", "8", "1"]);
  assert.equal(atob(salt).length, 16);
  assert.equal(atob(key).length, 32);
  assert.notEqual(hash, await hashPassword("correct horse battery staple"), "salted");
  assert.ok(await verifyPassword("correct horse battery staple", hash));
});

Deno.test("a wrong password, a near miss and a malformed hash never verify", async () => {
  const hash = await hashPassword("correct horse battery staple", TEST_COST);
  assert.equal(await verifyPassword("correct horse battery stapl", hash), false);
  assert.equal(await verifyPassword("", hash), false);
  assert.equal(await verifyPassword("x", "plaintext"), false);
  assert.equal(await verifyPassword("x", "scrypt$abc$8$1$c2FsdA==$a2V5"), false);
  assert.equal(await verifyPassword("x", "scrypt$4194304$8$1$c2FsdA==$a2V5"), false, "absurd cost refused");
});

Deno.test("new passwords need at least 12 characters", () => {
  assert.match(passwordProblem("short")!, /at least 12 characters/);
  assert.equal(passwordProblem("twelve chars"), null);
});
