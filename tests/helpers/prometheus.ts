/**
 * A small, strict reader of Prometheus's text format (0.0.4) for tests:
 * every line must be a HELP, a TYPE or a sample of a declared family, label
 * values must be escaped, and histograms must be cumulative with +Inf equal
 * to _count. Throws an AssertionError naming the offending line.
 */
import assert from "node:assert/strict";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, "counter" | "gauge" | "histogram">;
  samples: Sample[];
  /** The value of the one sample with this name and these labels (others may exist), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL},?)*)\\})? (\\S+)$`);

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, char) => (char === "n" ? "\n" : char));
}

export function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  const types = new Map<string, "counter" | "gauge" | "histogram">();
  const samples: Sample[] = [];
  for (const line of text.trimEnd().split("\n")) {
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram)$`).exec(line);
    if (type) {
      assert.ok(!types.has(type[1]), `TYPE of ${type[1]} given twice`);
      types.set(type[1], type[2] as "counter");
      continue;
    }
    if (new RegExp(`^# HELP ${NAME} \\S.*$`).test(line)) continue;
    const match = SAMPLE.exec(line);
    assert.ok(match, `not a valid line: ${JSON.stringify(line)}`);
    const [, name, labelText = "", , , raw] = match;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(family), `no TYPE before ${name}`);
    if (family !== name) assert.equal(types.get(family), "histogram", `${name} outside a histogram`);
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    assert.ok(!Number.isNaN(value), `not a number in ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(new RegExp(LABEL, "g"))) labels[pair[1]] = unescape(pair[2]);
    samples.push({ name, labels, value });
  }
  checkHistograms(types, samples);
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) =>
        s.name === name && Object.entries(labels).every(([key, label]) => s.labels[key] === label)
      );
      return found.length === 1 ? found[0].value : undefined;
    },
  };
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const series = new Map<string, Sample[]>();
    for (const sample of samples.filter((s) => s.name === `${family}_bucket`)) {
      const { le: _, ...rest } = sample.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), sample]);
    }
    for (const [key, buckets] of series) {
      const bounds = buckets.map((b) => (b.labels.le === "+Inf" ? Infinity : Number(b.labels.le)));
      assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b), `${family}${key}: le in order`);
      assert.equal(bounds.at(-1), Infinity, `${family}${key}: ends with +Inf`);
      buckets.forEach((bucket, i) => {
        if (i > 0) assert.ok(bucket.value >= buckets[i - 1].value, `${family}${key}: buckets are cumulative`);
      });
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(s.labels) === key);
      assert.equal(count?.value, buckets.at(-1)!.value, `${family}${key}: +Inf equals _count`);
      assert.ok(samples.some((s) => s.name === `${family}_sum` && JSON.stringify(s.labels) === key));
    }
  }
}
