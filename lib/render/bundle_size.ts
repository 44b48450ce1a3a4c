/**
 * What the dashboard's JavaScript costs a browser: the boot module, the
 * dashboard's islands and every chunk they import statically, gzipped as a
 * server would send them. The bundle-size test holds it to its budget and
 * the benchmark reports it.
 */
import config from "../../fresh.config.ts";
import { ensureIslandsBuilt } from "./build.ts";

/** The islands /admin/jobs renders. */
export const DASHBOARD_ISLANDS = ["RunNowButton", "JobToggle", "ExecutionHistory"];

export interface BundleSize {
  /** Per file: raw and gzipped bytes. */
  files: Map<string, { raw: number; gzip: number }>;
  /** The files that were asked for (boot and islands), before following imports. */
  entries: number;
  totalGzip: number;
}

async function gzippedSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Static imports of a minified bundle (`import"./x.js"`, `from"./x.js"`); dynamic `import(…)` is not one. */
function staticImports(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom|\bimport)\s*["'](\.\/[^"']+\.js)["']/g)].map((match) => match[1]);
}

/** Measures the dashboard's JavaScript, building the bundles first when missing or stale. */
export async function measureDashboardJavaScript(islands = DASHBOARD_ISLANDS): Promise<BundleSize> {
  const { manifest } = await ensureIslandsBuilt();
  const entries = [manifest.boot, ...islands.map((name) => manifest.islands[name])];
  if (!entries.every(Boolean)) throw new Error(`the build lacks an entry: ${JSON.stringify(entries)}`);
  const files = new Map<string, { raw: number; gzip: number }>();
  const pending = entries.map((url) => url.split("/").pop()!);
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    const bytes = await Deno.readFile(new URL(file, config.islandsOutDir));
    files.set(file, { raw: bytes.byteLength, gzip: await gzippedSize(bytes) });
    for (const imported of staticImports(new TextDecoder().decode(bytes))) pending.push(imported.slice(2));
  }
  const totalGzip = [...files.values()].reduce((sum, size) => sum + size.gzip, 0);
  return { files, entries: entries.length, totalGzip };
}
