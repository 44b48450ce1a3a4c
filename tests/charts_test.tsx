import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { DailyStrip } from "../components/DailyStrip.tsx";
import { DurationChart } from "../components/DurationChart.tsx";
import { ResultChart } from "../components/ResultChart.tsx";
import {
  type DailyOutcome,
  dayState,
  finishedDurations,
  niceDurationMax,
  niceMax,
  numericSeries,
  percentile,
  type RecentRun,
} from "../lib/charts.ts";

let sequence = 0;

/** A completed run a minute after the previous one, with the seed digest's result. */
function makeRun(overrides: Partial<RecentRun> = {}): RecentRun {
  sequence += 1;
  return {
    id: `run-${sequence}`,
    status: "completed",
    startedAt: new Date(Date.UTC(2027, 2, 8, 9, 0, 5) + sequence * 60_000).toISOString(),
    durationMs: 1200,
    result: { sent: 42, failed: 3 },
    ...overrides,
  };
}

function makeDay(day: string, counts: Partial<Omit<DailyOutcome, "day">> = {}): DailyOutcome {
  return { day, completed: 0, failed: 0, skipped: 0, running: 0, ...counts };
}

/** 30 days ending 2027-03-08: all completed, except the ones given. */
function makeDays(overrides: Record<string, Partial<Omit<DailyOutcome, "day">>> = {}): DailyOutcome[] {
  return Array.from({ length: 30 }, (_, i) => {
    const day = new Date(Date.UTC(2027, 2, 8) - (29 - i) * 86_400_000).toISOString().slice(0, 10);
    return makeDay(day, overrides[day] ?? { completed: 24 });
  });
}

function count(html: string, pattern: RegExp): number {
  return html.match(new RegExp(pattern.source, "g"))?.length ?? 0;
}

function titles(html: string): string[] {
  return [...html.matchAll(/<title>([^<]*)<\/title>/g)].map((match) => match[1]);
}

// --- lib/charts.ts ---------------------------------------------------------------------------------

Deno.test("percentile interpolates linearly between the closest ranks", () => {
  const values = [4, 1, 3, 2];
  assert.equal(percentile(values, 50), 2.5);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile(values, 100), 4);
  assert.ok(Math.abs(percentile(values, 95)! - 3.85) < 1e-9);
  assert.ok(Math.abs(percentile([1000, 2000, 3000, 4000, 10_000], 95)! - 8800) < 1e-9);
  assert.deepEqual(values, [4, 1, 3, 2], "the input is not sorted in place");
});

Deno.test("percentile of one value is that value, and of none is null", () => {
  assert.equal(percentile([7], 50), 7);
  assert.equal(percentile([7], 95), 7);
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([NaN], 50), null);
});

Deno.test("percentile refuses a p outside 0 to 100", () => {
  assert.throws(() => percentile([1], 101), RangeError);
  assert.throws(() => percentile([1], -1), RangeError);
  assert.throws(() => percentile([1], NaN), RangeError);
});

Deno.test("niceMax rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
  assert.deepEqual([1, 1.5, 2.2, 3, 7, 42, 0.3, 1000].map(niceMax), [1, 2, 2.5, 5, 10, 50, 0.5, 1000]);
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(-5), 1);
});

Deno.test("niceDurationMax rounds up to a duration that reads well", () => {
  assert.equal(niceDurationMax(3400), 5000);
  assert.equal(niceDurationMax(750), 1000);
  assert.equal(niceDurationMax(61_000), 120_000);
  assert.equal(niceDurationMax(4 * 3_600_000), 6 * 3_600_000);
  assert.equal(niceDurationMax(50 * 3_600_000), 2.5 * 86_400_000);
  assert.equal(niceDurationMax(0), 1000);
});

Deno.test("only completed and failed runs count towards the duration percentiles", () => {
  const runs = [
    makeRun({ durationMs: 100 }),
    makeRun({ status: "failed", durationMs: 900 }),
    makeRun({ status: "skipped", durationMs: 0 }),
    makeRun({ status: "running", durationMs: null }),
  ];
  assert.deepEqual(finishedDurations(runs), [100, 900]);
});

Deno.test("numericSeries turns the seed digest's { sent, failed } into two series", () => {
  const runs = [makeRun(), makeRun({ result: { sent: 0, failed: 0 } })];
  const series = numericSeries(runs);
  assert.deepEqual(series.map((s) => s.field), ["sent", "failed"]);
  assert.deepEqual(series[0].points.map((p) => p.value), [42, 0]);
  assert.deepEqual(series[0].points.map((p) => [p.index, p.runId]), [[0, runs[0].id], [1, runs[1].id]]);
  assert.equal(series[0].points[1].startedAt, runs[1].startedAt);
});

Deno.test("numericSeries reads one level of nesting and ignores arrays, strings, booleans and deeper levels", () => {
  const run = makeRun({
    result: {
      count: 5,
      stats: { rows: 10, name: "x", ok: true, ids: [1, 2], deeper: { n: 1 }, ratio: 0.5 },
      list: [1, 2, 3],
      label: "12",
      done: true,
      missing: null,
      huge: Infinity,
    },
  });
  assert.deepEqual(numericSeries([run]).map((s) => s.field), ["count", "stats.rows", "stats.ratio"]);
});

Deno.test("numericSeries skips runs without the field and results that are not objects", () => {
  const runs = [
    makeRun({ result: { sent: 1 } }),
    makeRun({ result: null }),
    makeRun({ result: [{ sent: 5 }] }),
    makeRun({ result: 7 }),
    makeRun({ result: "sent=3" }),
    makeRun({ result: { other: 2 } }),
    makeRun({ result: { sent: 4 } }),
  ];
  const sent = numericSeries(runs).find((s) => s.field === "sent")!;
  assert.deepEqual(sent.points.map((p) => [p.index, p.value]), [[0, 1], [6, 4]]);
});

Deno.test("numericSeries keeps the fields present in the most runs, ties in order of appearance", () => {
  const fields = ["a", "b", "c", "d", "e", "f", "g", "h"];
  const everywhere = Object.fromEntries(fields.map((field) => [field, 1]));
  const runs = [
    makeRun({ result: everywhere }),
    makeRun({ result: { h: 2, g: 2 } }),
    makeRun({ result: { h: 3 } }),
  ];
  assert.deepEqual(numericSeries(runs).map((s) => s.field), ["h", "g", "a", "b", "c", "d"]);
  assert.deepEqual(numericSeries(runs, 2).map((s) => s.field), ["h", "g"]);
  assert.deepEqual(numericSeries([]), []);
});

Deno.test("numericSeries treats a __proto__ key from JSON as an ordinary field name", () => {
  const result = JSON.parse('{"__proto__": 5, "constructor": {"x": 1}}');
  assert.deepEqual(
    numericSeries([makeRun({ result })]).map((s) => [s.field, s.points[0].value]),
    [["__proto__", 5], ["constructor.x", 1]],
  );
});

Deno.test("a day is failed if any run failed, else completed, running, skipped or none", () => {
  assert.equal(dayState(makeDay("2027-03-08", { completed: 24, failed: 1 })), "failed");
  assert.equal(dayState(makeDay("2027-03-08", { completed: 24, skipped: 2 })), "completed");
  assert.equal(dayState(makeDay("2027-03-08", { running: 1 })), "running");
  assert.equal(dayState(makeDay("2027-03-08", { skipped: 1 })), "skipped");
  assert.equal(dayState(makeDay("2027-03-08")), "none");
});

// --- DurationChart ---------------------------------------------------------------------------------

Deno.test("the duration chart draws one linked bar per run, coloured by status", () => {
  const runs = [
    makeRun({ durationMs: 1000 }),
    makeRun({ durationMs: 2000 }),
    makeRun({ status: "failed", durationMs: 3000 }),
    makeRun({ durationMs: 4000 }),
    makeRun({ durationMs: 10_000 }),
    makeRun({ status: "skipped", durationMs: 0 }),
    makeRun({ status: "running", durationMs: null }),
  ];
  const html = renderToString(<DurationChart runs={runs} />);
  assert.equal(count(html, /<rect[^>]*data-status=/), 7);
  assert.equal(count(html, /data-status="failed"/), 1);
  assert.equal(count(html, /data-status="running"/), 1);
  assert.match(html, /<rect[^>]*class="fill-red-500 dark:fill-red-400"[^>]*data-status="failed"/);
  const links = [...html.matchAll(/<a\s+href="([^"]+)"/g)].map((match) => match[1]);
  assert.deepEqual(links, runs.map((run) => `/admin/executions/${run.id}`));
  assert.match(html, /<svg[^>]*viewBox="0 0 600 200"[^>]*width="100%"[^>]*role="img"/);
});

Deno.test("the duration chart labels p50 and p95 of finished runs and the axis maximum", () => {
  const runs = [1000, 2000, 3000, 4000, 10_000].map((durationMs) => makeRun({ durationMs }));
  runs.push(makeRun({ status: "skipped", durationMs: 0 }), makeRun({ status: "running", durationMs: null }));
  const html = renderToString(<DurationChart runs={runs} />);
  assert.match(html, />p50 3 s<\/text>/);
  assert.match(html, />p95 8.8 s<\/text>/);
  assert.match(html, />10 s<\/text>/, "the axis maximum");
  assert.equal(count(html, /stroke-dasharray/), 2);
  assert.match(
    html,
    /aria-label="Durations of the last 7 runs: 5 completed, 1 running, 1 skipped; p50 3 s, p95 8.8 s, longest 10 s\."/,
  );
});

Deno.test("each bar's title gives its status, exact start and duration", () => {
  const runs = [
    makeRun({ status: "failed", startedAt: "2027-03-08T09:00:05.000Z", durationMs: 12_400 }),
    makeRun({ status: "running", startedAt: "2027-03-08T10:00:00.000Z", durationMs: null }),
  ];
  const html = renderToString(<DurationChart runs={runs} />);
  assert.deepEqual(titles(html), [
    "Failed · 2027-03-08 09:00:05 UTC · 12.4 s",
    "Running · 2027-03-08 10:00:00 UTC · still running",
  ]);
});

Deno.test("a failed bar carries a mark besides its colour, and the legend says so", () => {
  const html = renderToString(<DurationChart runs={[makeRun({ status: "failed" }), makeRun()]} />);
  assert.equal(count(html, /fill-red-800/), 1);
  assert.match(html, /Failed \(dot above the bar\)/);
});

Deno.test("a run id is encoded into its link, not injected", () => {
  const html = renderToString(<DurationChart runs={[makeRun({ id: `"><script>alert(1)</script>` })]} />);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /href="\/admin\/executions\/%22%3E%3Cscript%3Ealert\(1\)%3C%2Fscript%3E"/);
});

Deno.test("with only running runs the duration chart draws markers and no guide lines", () => {
  const html = renderToString(<DurationChart runs={[makeRun({ status: "running", durationMs: null })]} />);
  assert.equal(count(html, /data-status="running"/), 1);
  assert.doesNotMatch(html, /p50|stroke-dasharray/);
});

Deno.test("the duration chart says so when there are no runs", () => {
  const html = renderToString(<DurationChart runs={[]} />);
  assert.match(html, /No runs yet/);
  assert.doesNotMatch(html, /<svg/);
});

// --- DailyStrip ------------------------------------------------------------------------------------

Deno.test("the daily strip draws 30 days with a title each", () => {
  const days = makeDays({ "2027-03-08": { completed: 24, failed: 1 }, "2027-03-01": {} });
  const html = renderToString(<DailyStrip days={days} />);
  assert.equal(count(html, /<g\s+data-day=/), 30);
  assert.match(html, /<title>2027-03-08: 24 completed, 1 failed<\/title>/);
  assert.match(html, /<title>2027-03-01: no runs<\/title>/);
  assert.match(html, /<title>2027-02-07: 24 completed, 0 failed<\/title>/);
  assert.match(html, /role="img"/);
  assert.match(
    html,
    /aria-label="Outcomes of the last 30 days, 2027-02-07 to 2027-03-08: 28 days all completed, 1 day with failures, 1 day without runs\."/,
  );
});

Deno.test("failed days are red and marked with a cross, so colour is not the only sign", () => {
  const days = makeDays({
    "2027-03-02": { completed: 3, failed: 3 },
    "2027-03-05": { failed: 1, skipped: 2 },
  });
  const html = renderToString(<DailyStrip days={days} />);
  assert.equal(count(html, /data-state="failed"/), 2);
  assert.equal(count(html, /data-mark="failed"/), 2);
  assert.match(html, /<g\s+data-day="2027-03-02" data-state="failed">.*?fill-red-600.*?data-mark="failed"/);
  assert.match(html, /<title>2027-03-05: 0 completed, 1 failed, 2 skipped<\/title>/);
});

Deno.test("the daily strip's legend explains every colour in words", () => {
  const html = renderToString(<DailyStrip days={makeDays({ "2027-03-08": { running: 1 } })} />);
  for (const label of ["All completed", "Some failed (✕)", "No runs", "Running, nothing finished"]) {
    assert.ok(html.includes(label), label);
  }
  assert.ok(!html.includes("Only skipped runs"), "rare states appear only when present");
});

Deno.test("the daily strip says so when there are no days", () => {
  assert.match(renderToString(<DailyStrip days={[]} />), /No daily history yet/);
});

// --- ResultChart -----------------------------------------------------------------------------------

Deno.test("the result chart draws one small chart per numeric field with latest, min and max", () => {
  const runs = [
    makeRun({ startedAt: "2027-03-01T09:00:00.000Z", result: { sent: 40, failed: 1 } }),
    makeRun({ startedAt: "2027-03-08T09:00:00.000Z", result: { sent: 42, failed: 3 } }),
    makeRun({ startedAt: "2027-03-15T09:00:00.000Z", result: { sent: 0, failed: 0 } }),
  ];
  const html = renderToString(<ResultChart runs={runs} />);
  assert.deepEqual([...html.matchAll(/data-field="([^"]+)"/g)].map((m) => m[1]), ["sent", "failed"]);
  assert.equal(count(html, /role="img"/), 2);
  assert.equal(count(html, /<circle/), 6);
  assert.ok(titles(html).includes("sent = 42 · 2027-03-08 09:00:00 UTC"));
  assert.match(html, /aria-label="sent over 3 of the last 3 runs: latest 0, min 0, max 42"/);
  assert.match(html, /<span>min 0<\/span><span>max 42<\/span>/);
});

Deno.test("a run without the field breaks the line instead of bridging it", () => {
  const runs = [
    makeRun({ result: { sent: 1 } }),
    makeRun({ result: { sent: 2 } }),
    makeRun({ status: "failed", result: null }),
    makeRun({ result: { sent: 3 } }),
  ];
  const html = renderToString(<ResultChart runs={runs} />);
  assert.equal(count(html, /<polyline/), 2);
  assert.equal(count(html, /<circle/), 3);
});

Deno.test("a hostile result field name is escaped everywhere it is shown", () => {
  const hostile = "<img src=x onerror=alert(1)>";
  const html = renderToString(<ResultChart runs={[makeRun({ result: { [hostile]: 1, ['"quote']: 2 } })]} />);
  assert.doesNotMatch(html, /<img/);
  // Preact escapes < & and " (enough: without a raw < no tag can start); > stays as it is.
  assert.ok(html.includes("<title>&lt;img src=x onerror=alert(1)> = 1 ·"), "in the point's title");
  assert.ok(html.includes('data-field="&lt;img src=x onerror=alert(1)>"'), "in an attribute");
  assert.ok(html.includes(">&lt;img src=x onerror=alert(1)></span>"), "in the field's heading");
  assert.match(html, /data-field="&quot;quote"/);
});

Deno.test("the result chart shows at most six fields and says how many there are", () => {
  const result = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`field${i}`, i]));
  const html = renderToString(<ResultChart runs={[makeRun({ result })]} />);
  assert.equal(count(html, /data-field=/), 6);
  assert.match(html, /Showing the 6 fields present in the most runs, of 9\./);
});

Deno.test("the result chart notes results without numbers, and draws nothing without runs", () => {
  const html = renderToString(<ResultChart runs={[makeRun({ result: { ok: true, ids: [1] } })]} />);
  assert.match(html, /Results have no numeric fields/);
  assert.equal(renderToString(<ResultChart runs={[]} />), "");
});
