/** The bench's raw HTTP/1.1 client: it must read every framing the app uses, on one connection. */
import assert from "node:assert/strict";
import { HttpConnection } from "../bench/http_client.ts";

const BIG = "x".repeat(300_000);

Deno.test("the bench client reads sized, chunked and empty answers, in order, on one kept-alive connection", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    seen.push(`${request.method} ${url.pathname} ${request.headers.get("x-test") ?? ""}`);
    if (url.pathname === "/sized") return new Response(BIG);
    if (url.pathname === "/chunked") {
      const parts = ["first,", "second,", BIG];
      return new Response(
        new ReadableStream({
          pull(controller) {
            const part = parts.shift();
            if (part === undefined) controller.close();
            else controller.enqueue(new TextEncoder().encode(part));
          },
        }),
      );
    }
    if (url.pathname === "/echo") return new Response(await request.text(), { status: 201 });
    if (url.pathname === "/gzip") {
      const gzipped = new Response(new Blob([BIG]).stream().pipeThrough(new CompressionStream("gzip")));
      return new Response(await gzipped.arrayBuffer(), { headers: { "content-encoding": "gzip" } });
    }
    return new Response(null, { status: 204 });
  });
  const connection = new HttpConnection(`http://127.0.0.1:${server.addr.port}`);
  try {
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    for (let round = 0; round < 3; round++) {
      const sized = await connection.request("GET", "/sized", { "x-test": "a" });
      assert.equal(sized.status, 200);
      assert.equal(decode(sized.body), BIG);
      const chunked = await connection.request("GET", "/chunked");
      assert.equal(decode(chunked.body), `first,second,${BIG}`);
      const echo = await connection.request(
        "POST",
        "/echo",
        { "content-type": "application/json" },
        '{"a":1}',
      );
      assert.equal(echo.status, 201);
      assert.equal(decode(echo.body), '{"a":1}');
      const empty = await connection.request("GET", "/none");
      assert.equal(empty.status, 204);
      assert.equal(empty.body.byteLength, 0);
    }
    const gzip = await connection.request("GET", "/gzip", { "accept-encoding": "gzip" });
    assert.equal(gzip.headers.get("content-encoding"), "gzip");
    assert.ok(gzip.body.byteLength < 5_000, "the body is read as sent, not inflated");
    const inflated = new Response(
      new Blob([gzip.body]).stream().pipeThrough(new DecompressionStream("gzip")),
    );
    assert.equal(await inflated.text(), BIG);
    assert.equal(seen.length, 13);
    assert.equal(seen[0], "GET /sized a");
  } finally {
    connection.close();
    await server.shutdown();
  }
});

Deno.test("the bench client reports a refused connection as an error and can be used again", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const connection = new HttpConnection(`http://127.0.0.1:${port}`);
  await assert.rejects(() => connection.request("GET", "/"));
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => new Response("back"));
  try {
    const response = await connection.request("GET", "/");
    assert.equal(new TextDecoder().decode(response.body), "back");
  } finally {
    connection.close();
    await server.shutdown();
  }
});
