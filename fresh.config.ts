/**
 * Render and build configuration, in the place a Fresh developer looks for
 * it: the twind theme, where islands and static files live.
 */
import { defineConfig } from "@twind/core";
import presetTailwind from "@twind/preset-tailwind";

export default {
  islandsDir: new URL("./islands/", import.meta.url),
  staticDir: new URL("./static/", import.meta.url),
  /** Where `deno task build` writes island bundles; served at /static/_islands/. */
  islandsOutDir: new URL("./static/_islands/", import.meta.url),
  twind: defineConfig({
    presets: [presetTailwind()],
    // Dark mode follows the operating system (prefers-color-scheme).
    darkMode: "media",
    preflight: {
      // Island markers must not disturb layout.
      "jw-island": { display: "contents" },
    },
  }),
};
