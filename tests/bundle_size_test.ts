import assert from "node:assert/strict";
import config from "../fresh.config.ts";
import { ensureIslandsBuilt } from "../lib/render/build.ts";

/** The dashboard's JavaScript budget: boot module, its islands and every chunk they import. */
const BUDGET_BYTES = 15 * 1024;
const DASHBOARD_ISLANDS = ["RunNowButton", "JobToggle", "ExecutionHistory"];

async function gzippedSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Static imports of a minified bundle (`import"./x.js"`, `from"./x.js"`); dynamic `import(…)` is not one. */
function staticImports(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom|\bimport)\s*["'](\.\/[^"']+\.js)["']/g)].map((match) => match[1]);
}

Deno.test("the dashboard ships at most 15 KB of gzipped JavaScript, shared chunks included", async () => {
  // Builds first when the bundles are missing or stale, as start-up does.
  const { manifest } = await ensureIslandsBuilt();
  const entries = [manifest.boot, ...DASHBOARD_ISLANDS.map((name) => manifest.islands[name])];
  assert.ok(entries.every(Boolean), `the build lacks an entry: ${JSON.stringify(entries)}`);

  const sizes = new Map<string, { raw: number; gzip: number }>();
  const pending = entries.map((url) => url.split("/").pop()!);
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (sizes.has(file)) continue;
    const bytes = await Deno.readFile(new URL(file, config.islandsOutDir));
    sizes.set(file, { raw: bytes.byteLength, gzip: await gzippedSize(bytes) });
    for (const imported of staticImports(new TextDecoder().decode(bytes))) pending.push(imported.slice(2));
  }

  const total = [...sizes.values()].reduce((sum, size) => sum + size.gzip, 0);
  const report = [...sizes].sort(([, a], [, b]) => b.gzip - a.gzip)
    .map(([file, size]) => `  ${file}: ${size.gzip} B gzipped (${size.raw} B)`)
    .concat(`  total: ${total} B gzipped of ${BUDGET_BYTES} B`).join("\n");
  console.log(`Dashboard JavaScript:\n${report}`);
  assert.ok(sizes.size > entries.length, "the islands share at least one chunk (preact)");
  assert.ok(total <= BUDGET_BYTES, `the dashboard's JavaScript is over budget:\n${report}`);
});
