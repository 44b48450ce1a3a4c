/**
 * The server half of islands. A component registered here (every default
 * export of islands/*.tsx, listed in islands.gen.ts) is rendered inside a
 * `<jw-island>` marker carrying its name, its bundle URL and its props as
 * JSON; the boot module hydrates each marker in the browser.
 */
import { type ComponentType, h, options, type VNode } from "preact";

// deno-lint-ignore no-explicit-any
type AnyComponent = ComponentType<any>;

const islandNames = new Map<AnyComponent, string>();
let renderIslands: Set<string> | null = null;
let resolveUrl: (name: string) => string = () => {
  throw new Error("island bundles are not built: call ensureIslandsBuilt() at start-up");
};
let creatingInner = false;

/** Registers island components by name (from the generated manifest). */
export function registerIslands(islands: Record<string, AnyComponent>): void {
  for (const [name, component] of Object.entries(islands)) islandNames.set(component, name);
}

/** Tells the marker where each island's bundle is served. */
export function setIslandUrlResolver(resolve: (name: string) => string): void {
  resolveUrl = resolve;
}

/**
 * Runs a synchronous render and returns what it produced together with the
 * names of the islands it rendered.
 */
export function collectIslands<T>(render: () => T): { output: T; islands: Set<string> } {
  const previous = renderIslands;
  const islands = new Set<string>();
  renderIslands = islands;
  try {
    return { output: render(), islands };
  } finally {
    renderIslands = previous;
  }
}

/**
 * Throws unless `value` is plain JSON: props cross to the browser as JSON,
 * so a function or a Date would arrive broken.
 */
export function assertPlainJson(value: unknown, path: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return;
    throw new TypeError(`${path} is ${value}, which JSON cannot carry`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertPlainJson(item, `${path}[${index}]`));
    return;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      for (const [key, item] of Object.entries(value)) assertPlainJson(item, `${path}.${key}`);
      return;
    }
    const kind = (value as object).constructor?.name ?? "object";
    throw new TypeError(
      `${path} is a ${kind}; island props must be plain JSON (pass a string or number instead)`,
    );
  }
  throw new TypeError(`${path} is a ${typeof value}; island props must be plain JSON`);
}

/** JSON for an attribute value; the HTML renderer escapes quotes and `<`. */
function serializeProps(name: string, props: Record<string, unknown>): string {
  for (const [key, value] of Object.entries(props)) {
    if (key === "children" && value === undefined) continue;
    if (key === "children") {
      throw new TypeError(`island ${name}: children cannot be passed to an island; pass plain props`);
    }
    assertPlainJson(value, `island ${name}: prop "${key}"`);
  }
  return JSON.stringify(props);
}

function IslandMarker(
  { name, component, islandProps }: {
    name: string;
    component: AnyComponent;
    islandProps: Record<string, unknown>;
  },
): VNode {
  const json = serializeProps(name, islandProps);
  renderIslands?.add(name);
  creatingInner = true;
  let inner: VNode;
  try {
    inner = h(component, islandProps);
  } finally {
    creatingInner = false;
  }
  return h(
    "jw-island",
    { "data-island": name, "data-src": resolveUrl(name), "data-props": json },
    inner,
  ) as VNode;
}

const previousHook = options.vnode;
options.vnode = (vnode: VNode) => {
  if (!creatingInner && typeof vnode.type === "function") {
    const name = islandNames.get(vnode.type as AnyComponent);
    if (name !== undefined) {
      const { key: _key, ...islandProps } = vnode.props as Record<string, unknown>;
      // Keep `ref`/`key` semantics out: an island is addressed by its marker.
      vnode.props = { name, component: vnode.type, islandProps } as never;
      vnode.type = IslandMarker as never;
    }
  }
  previousHook?.(vnode);
};
