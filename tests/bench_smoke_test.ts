/**
 * A tiny run of `deno task bench` (2,000 executions, 2 s per scenario), so
 * the benchmark keeps working as the app changes. It checks that every
 * part ran and that nothing failed, not how fast anything was: timings do
 * not belong in tests.
 */
import assert from "node:assert/strict";
import type { BenchResults } from "../bench/report.ts";
import { TEST_DATABASE_URL } from "./helpers/db.ts";

const EXPECTED_TARGETS = 15;

Deno.test({
  name: "the benchmark runs end to end on a small history and reports every target",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "jobwatch-bench-smoke-" });
    try {
      const env: Record<string, string> = {
        BENCH_SMOKE: "1",
        BENCH_EXECUTIONS: "2000",
        BENCH_DURATION_MS: "2000",
        BENCH_WARMUP_MS: "300",
        BENCH_CONNECTIONS: "4",
        BENCH_OUT: out,
        NO_COLOR: "1",
      };
      if (TEST_DATABASE_URL) env.BENCH_DATABASE_URL = TEST_DATABASE_URL;
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-cron", "bench/main.ts"],
        cwd: new URL("../", import.meta.url),
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `the bench failed:\n${output.slice(-4000)}`);

      const kind = TEST_DATABASE_URL ? "postgres" : "pglite";
      const results = JSON.parse(await Deno.readTextFile(`${out}/${kind}-2000.json`)) as BenchResults;
      assert.equal(results.database.kind, kind);
      assert.equal(results.smoke, true);
      assert.deepEqual(results.sizes.map((size) => size.executions), [100, 2000]);
      for (const size of results.sizes) {
        assert.equal(size.scenarios.length, 6, `every scenario ran at ${size.executions}`);
        for (const scenario of size.scenarios) {
          assert.ok(scenario.requests > 0, `${scenario.name} made requests`);
          assert.deepEqual(scenario.failures, {}, `${scenario.name} got only 2xx answers`);
          assert.ok(scenario.peakRssMB > 10, `${scenario.name} saw the server's memory`);
        }
      }
      assert.equal(results.growth.length, 3);
      assert.ok(results.comparisons.length >= 4, "the seed's queries were timed against ours");
      for (const comparison of results.comparisons) {
        assert.ok(comparison.seedMs > 0 && comparison.oursMs > 0, comparison.name);
        const plan = await Deno.readTextFile(`${out}/${comparison.oursPlanFile}`);
        assert.match(plan, /Execution Time/, `EXPLAIN ANALYZE of ours for ${comparison.name}`);
      }
      assert.ok(
        results.ingestFloor && results.ingestFloor.requests > 0,
        "the bare writer took the ingest load",
      );
      assert.deepEqual(results.ingestFloor.failures, {}, "the bare writer got only 2xx answers");
      assert.ok(results.tick && results.tick.jobs === 500 && results.tick.ticks > 0);
      assert.ok(results.tick.startedPerTick > 0, "ticks started runs");
      assert.ok(results.prune, "the retention job ran under load");
      assert.deepEqual(results.prune.before.failures, {});
      assert.deepEqual(results.prune.dashboard.failures, {});
      assert.ok(results.dashboardJsGzipBytes > 1000);
      assert.equal(results.targets.length, EXPECTED_TARGETS);
      for (const target of results.targets) {
        assert.equal(typeof target.met, "boolean", target.name);
        assert.notEqual(target.measured, "not measured", `${target.name} was measured`);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
