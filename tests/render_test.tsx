import assert from "node:assert/strict";
import { h } from "preact";
import PasswordInput from "../islands/PasswordInput.tsx";
import { generatedManifestSource, listIslands, readManifest } from "../lib/render/build.ts";
import { assertPlainJson } from "../lib/render/islands.ts";
import { renderDocument } from "../lib/render/page.tsx";
import { classTokensOf, extractCss } from "../lib/render/twind.ts";
import { consume, stringify, twind, virtual } from "@twind/core";
import freshConfig from "../fresh.config.ts";
import { createTestApp, dbTest, ensureBuilt, makeUser } from "./helpers/app.ts";

function Page({ children }: { children?: preact.ComponentChildren }) {
  return <body>{children}</body>;
}

Deno.test({
  name: "a page without islands ships no JavaScript at all",
  ...dbTest,
  fn: async () => {
    const t = await createTestApp();
    try {
      const cookie = await t.signIn(await makeUser(t.db));
      const html = await (await t.app.request("/admin/audit", { headers: { cookie } })).text();
      assert.match(html, /Audit log/);
      assert.doesNotMatch(html, /<script/i);
      assert.doesNotMatch(html, /modulepreload|<jw-island/);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name: "a page with an island loads the boot module and preloads the island's bundle",
  ...dbTest,
  fn: async () => {
    const t = await createTestApp();
    try {
      const html = await (await t.app.request("/login")).text();
      const manifest = (await readManifest())!;
      assert.ok(html.includes(`<script type="module" src="${manifest.boot}"></script>`));
      assert.ok(html.includes(`<link rel="modulepreload" href="${manifest.islands.PasswordInput}">`));
      assert.match(
        html,
        /<jw-island data-island="PasswordInput" data-src="[^"]+" data-props="\{&quot;id&quot;/,
      );
      assert.equal(html.match(/<script/g)!.length, 1, "one script tag: the boot module; no inline script");
    } finally {
      await t.close();
    }
  },
});

Deno.test("island props are escaped so markup in data cannot break out of the marker", async () => {
  await ensureBuilt();
  const hostile = `</script><script>alert(1)</script>" onmouseover="alert(2)`;
  const { html, islands } = renderDocument(
    <Page>
      <PasswordInput id="pw" name={hostile} autocomplete="off" />
    </Page>,
    { title: "t" },
  );
  assert.deepEqual([...islands], ["PasswordInput"]);
  assert.doesNotMatch(html, /" onmouseover/);
  const props = JSON.parse(
    /data-props="([^"]*)"/.exec(html)![1].replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll(
      "&gt;",
      ">",
    ).replaceAll("&amp;", "&"),
  );
  assert.equal(props.name, hostile, "the browser gets the exact value back");
  assert.equal(html.match(/<script/g)!.length, 1, "only the boot module");
});

Deno.test("an island given a Date or a function fails at render time with a clear error", async () => {
  await ensureBuilt();
  const render = (props: Record<string, unknown>) =>
    renderDocument(<Page>{h(PasswordInput, props as never)}</Page>, { title: "t" });
  assert.throws(
    () => render({ id: "a", name: "b", autocomplete: new Date() }),
    /island PasswordInput: prop "autocomplete" is a Date; island props must be plain JSON/,
  );
  assert.throws(
    () => render({ id: "a", name: "b", autocomplete: "x", onChange: () => {} }),
    /prop "onChange" is a function/,
  );
  assert.throws(() => assertPlainJson({ a: [1, NaN] }, "props"), /props\.a\[1\] is NaN/);
  assert.doesNotThrow(() => assertPlainJson({ a: [1, "x", null, { b: true }] }, "props"));
});

Deno.test("classes an island adds in the browser are styled on pages that use it", async () => {
  await ensureBuilt();
  const { html } = renderDocument(
    <Page>
      <PasswordInput id="pw" name="password" autocomplete="off" />
    </Page>,
    { title: "t" },
  );
  // The server renders the field without the toggle; after hydration the toggle
  // appears, and turns blue when pressed. Both states must be in the CSS.
  assert.doesNotMatch(html, /class="[^"]*text-blue-600/);
  assert.match(html, /\.text-blue-600\{/);
  assert.match(html, /\.right-0\{/);
  const plain = renderDocument(<Page>Hello</Page>, { title: "t" }).html;
  assert.doesNotMatch(plain, /\.text-blue-600\{/, "pages without islands carry only their own classes");
});

Deno.test("the generated islands manifest lists exactly the files in islands/", async () => {
  const expected = generatedManifestSource(await listIslands());
  const actual = await Deno.readTextFile(new URL("../lib/render/islands.gen.ts", import.meta.url));
  assert.equal(actual, expected, "run `deno task build` and commit lib/render/islands.gen.ts");
});

Deno.test("page titles and text are escaped", async () => {
  await ensureBuilt();
  const { html } = renderDocument(<Page>{"<img src=x onerror=alert(1)>"}</Page>, {
    title: "</title><script>alert(1)</script>",
  });
  assert.doesNotMatch(html, /<script|<img/);
  assert.match(html, /<body>&lt;img src=x onerror=alert\(1\)/);
});

Deno.test("page CSS is cached by class set and matches what twind generates from the page", () => {
  const fresh = (html: string) => {
    const tw = twind(freshConfig.twind, virtual());
    consume(html, tw);
    return stringify(tw.target);
  };
  const cards =
    `<main class="grid gap-4 md:grid-cols-2"><p class="text-sm text-red-700 dark:text-red-300">x</p></main>`;
  const table = `<table class="w-full text-left"><td class="px-3 py-2 font-mono">y</td></table>`;
  assert.equal(extractCss(cards), fresh(cards));
  assert.equal(extractCss(table), fresh(table));
  // The same classes in another order and with other text: the same CSS, from the cache.
  const reordered =
    `<main class="md:grid-cols-2 gap-4 grid"><p class="dark:text-red-300 text-red-700 text-sm">z</p></main>`;
  assert.equal(extractCss(reordered), extractCss(cards));
  assert.ok(extractCss(cards).includes(".text-red-700"));
  assert.ok(!extractCss(cards).includes(".font-mono"), "one page's classes do not leak into another's CSS");
  assert.deepEqual(classTokensOf(`<a class="b a"></a><b class=" a  c "></b>`), ["a", "b", "c"]);
});

Deno.test("memoized pages are reused by key, and the memo keeps at most 16 MB of them", () => {
  const text = (mb: number, tag: string) => `${tag} `.repeat(mb * 1024 * 1024 / (tag.length + 1));
  const first = renderDocument(<Page>{text(3, "a")}</Page>, { title: "Memo", memoKey: "page-1" });
  assert.equal(renderDocument(<Page>ignored</Page>, { title: "Memo", memoKey: "page-1" }), first);
  // Five more 3 MB pages: 18 MB in all, so the oldest has to go.
  for (let i = 2; i <= 6; i++) {
    renderDocument(<Page>{text(3, `p${i}`)}</Page>, { title: "Memo", memoKey: `page-${i}` });
  }
  const again = renderDocument(<Page>{text(3, "a")}</Page>, { title: "Memo", memoKey: "page-1" });
  assert.notEqual(again, first, "the least recently used page was dropped");
  assert.ok(
    renderDocument(<Page>ignored</Page>, { title: "Memo", memoKey: "page-3" }).html.includes("p3 "),
    "no more than needed was dropped",
  );
  assert.equal(
    renderDocument(<Page>ignored</Page>, { title: "Memo", memoKey: "page-6" }).html.includes("p6 "),
    true,
  );
  // A page larger than the whole memo is rendered but not kept.
  const huge = renderDocument(<Page>{text(17, "h")}</Page>, { title: "Memo", memoKey: "huge" });
  assert.notEqual(renderDocument(<Page>{text(17, "h")}</Page>, { title: "Memo", memoKey: "huge" }), huge);
});
