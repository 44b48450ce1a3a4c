import assert from "node:assert/strict";
import { Hono } from "hono";
import { acceptsGzip, compressResponses } from "../lib/http/compress.ts";

const PAGE = `<!DOCTYPE html><p>${"Every run, its result and how long it took. ".repeat(200)}</p>`;

function testApp(): Hono {
  const app = new Hono();
  app.use(compressResponses());
  app.get("/page", (c) => c.html(PAGE, 400));
  app.get("/small", (c) => c.json({ ok: true }));
  app.get("/events", (c) => c.body(PAGE, 200, { "content-type": "text/event-stream" }));
  app.get("/png", (c) => c.body(new Uint8Array(4096), 200, { "content-type": "image/png" }));
  app.get("/no-transform", (c) => c.html(PAGE, 200, { "cache-control": "no-transform" }));
  app.get("/big", () => {
    const body = "x".repeat(2 * 1024 * 1024);
    return new Response(new Blob([body]).stream(), {
      headers: { "content-type": "text/plain", "content-length": String(body.length) },
    });
  });
  return app;
}

async function gunzip(response: Response): Promise<string> {
  return await new Response(response.body!.pipeThrough(new DecompressionStream("gzip"))).text();
}

Deno.test("a page is gzipped when the client accepts it, and keeps its status and type", async () => {
  const response = await testApp().request("/page", { headers: { "accept-encoding": "gzip, br" } });
  assert.equal(response.status, 400);
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assert.match(response.headers.get("content-type")!, /^text\/html/);
  assert.match(response.headers.get("vary")!, /Accept-Encoding/);
  assert.equal(response.headers.get("content-length"), null);
  assert.equal(await gunzip(response), PAGE);
});

Deno.test("nothing is compressed for a client that does not take gzip", async () => {
  for (const accept of [undefined, "br", "gzip;q=0", "identity", "gzip;q=0.0, br"]) {
    const headers: Record<string, string> = accept ? { "accept-encoding": accept } : {};
    const response = await testApp().request("/page", { headers });
    assert.equal(response.headers.get("content-encoding"), null, `accept-encoding: ${accept}`);
    assert.equal(await response.text(), PAGE);
  }
});

Deno.test("event streams, images, no-transform and tiny bodies are sent as they are", async () => {
  for (const path of ["/events", "/png", "/no-transform", "/small"]) {
    const response = await testApp().request(path, { headers: { "accept-encoding": "gzip" } });
    assert.equal(response.headers.get("content-encoding"), null, path);
    await response.arrayBuffer();
  }
  const small = await testApp().request("/small", { headers: { "accept-encoding": "gzip" } });
  assert.deepEqual(await small.json(), { ok: true });
});

Deno.test("a body over 1 MB is compressed as a stream", async () => {
  const response = await testApp().request("/big", { headers: { "accept-encoding": "gzip" } });
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assert.equal(response.headers.get("content-length"), null);
  assert.equal((await gunzip(response)).length, 2 * 1024 * 1024);
});

Deno.test("HEAD answers are not compressed", async () => {
  const response = await testApp().request("/page", {
    method: "HEAD",
    headers: { "accept-encoding": "gzip" },
  });
  assert.equal(response.headers.get("content-encoding"), null);
});

Deno.test("acceptsGzip reads q-values and wildcards", () => {
  assert.equal(acceptsGzip("gzip, deflate, br"), true);
  assert.equal(acceptsGzip("GZIP"), true);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("gzip;q=0.5"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("deflate"), false);
  assert.equal(acceptsGzip(""), false);
  assert.equal(acceptsGzip(undefined), false);
});
