/** `deno task build`: writes the island bundles to static/_islands/. */
import { buildIslands } from "./build.ts";

const started = performance.now();
const manifest = await buildIslands();
const count = Object.keys(manifest.islands).length;
console.log(
  `Built ${count} island${count === 1 ? "" : "s"} into static/_islands/ in ${
    Math.round(performance.now() - started)
  } ms`,
);
