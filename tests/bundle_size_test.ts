import assert from "node:assert/strict";
import { measureDashboardJavaScript } from "../lib/render/bundle_size.ts";

/** The dashboard's JavaScript budget: boot module, its islands and every chunk they import. */
const BUDGET_BYTES = 15 * 1024;

Deno.test("the dashboard ships at most 15 KB of gzipped JavaScript, shared chunks included", async () => {
  const { files, entries, totalGzip } = await measureDashboardJavaScript();
  const report = [...files].sort(([, a], [, b]) => b.gzip - a.gzip)
    .map(([file, size]) => `  ${file}: ${size.gzip} B gzipped (${size.raw} B)`)
    .concat(`  total: ${totalGzip} B gzipped of ${BUDGET_BYTES} B`).join("\n");
  console.log(`Dashboard JavaScript:\n${report}`);
  assert.ok(files.size > entries, "the islands share at least one chunk (preact)");
  assert.ok(totalGzip <= BUDGET_BYTES, `the dashboard's JavaScript is over budget:\n${report}`);
});
