/**
 * The seed's queries (bench/seed_queries.sql) against Jobwatch's own for the
 * same screens, on the same data and the same pool: the median wall time of
 * each side, and an EXPLAIN (ANALYZE, BUFFERS) of every statement either
 * side sends, written to files to read next to the numbers.
 *
 * Where the seed ran a screen's statements together (Promise.all in its
 * route), they run together here too, as Jobwatch's routes do with theirs;
 * on a pool of three or more connections they overlap. On PGlite (a pool of
 * one) they queue, and each side's time is the sum of its statements.
 */
import type { Sql } from "../lib/db/mod.ts";
import { encodeCursor, type HistoryQuery, parseHistoryQuery } from "../lib/history.ts";
import { listJobSummaries } from "../lib/queries/dashboard.ts";
import { listJobHealthRows } from "../lib/queries/health.ts";
import { cursorTime, listExecutions } from "../lib/queries/history.ts";
import { listJobDefinitions } from "../lib/queries/jobs.ts";
import { BENCH_JOBS } from "./jobs.ts";

export interface QueryComparison {
  /** A slug, also the plan files' name. */
  name: string;
  screen: string;
  /** Median wall time of the seed's statements for the screen, ms. */
  seedMs: number;
  /** Median wall time of Jobwatch's query functions for the screen, ms. */
  oursMs: number;
  /** seedMs / oursMs: how many times slower the seed is. */
  ratio: number;
  seedPlanFile: string;
  oursPlanFile: string;
}

export interface CompareOptions {
  /** How many rows deep the deep history page starts (the seed's OFFSET). Default 50,000. */
  depth?: number;
  /** Where the plan files go; created if missing. */
  outDir: string;
  /** Timed runs per side, after 2 warm-up runs each. Default 15. */
  iterations?: number;
  /** Rows per history page, 1-100. Default 50, the seed's and Jobwatch's default. */
  pageSize?: number;
}

export const SEED_QUERIES_FILE = new URL("./seed_queries.sql", import.meta.url);

const SEED_KEYS = [
  "history_page_offset",
  "history_count",
  "history_definitions",
  "dashboard_stats_24h",
  "dashboard_recent_100",
  "dashboard_definitions",
  "health_last_success",
] as const;
type SeedKey = typeof SEED_KEYS[number];

const WARM_UP_RUNS = 2;

/** One statement as sent: its text, its parameters and (for captured ones) their type oids. */
interface Statement {
  label: string;
  text: string;
  params: unknown[];
  types?: number[];
}

/** A screen's two sides: the seed's statements, and a run of Jobwatch's query functions. */
interface Screen {
  name: string;
  screen: string;
  seed: Statement[];
  ours: () => Promise<unknown>;
}

/**
 * Splits seed_queries.sql on its `-- name: <key>` lines into one statement
 * per key, comment lines and the closing semicolon left out.
 */
export function parseSeedQueries(text: string): Map<string, string> {
  const bodies = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split("\n")) {
    const header = /^--\s*name:\s*(\S+)\s*$/.exec(line);
    if (header) {
      if (bodies.has(header[1])) throw new Error(`seed_queries.sql: "${header[1]}" is named twice`);
      current = [];
      bodies.set(header[1], current);
    } else if (current && !/^\s*--/.test(line)) {
      current.push(line);
    }
  }
  const statements = new Map<string, string>();
  for (const [key, lines] of bodies) {
    const statement = lines.join("\n").trim().replace(/;$/, "").trim();
    if (statement === "") throw new Error(`seed_queries.sql: "${key}" has no statement`);
    statements.set(key, statement);
  }
  return statements;
}

async function readSeedQueries(): Promise<Record<SeedKey, string>> {
  const statements = parseSeedQueries(await Deno.readTextFile(SEED_QUERIES_FILE));
  const missing = SEED_KEYS.filter((key) => !statements.has(key));
  if (missing.length > 0) throw new Error(`seed_queries.sql lacks ${missing.join(", ")}`);
  return Object.fromEntries(SEED_KEYS.map((key) => [key, statements.get(key)!])) as Record<SeedKey, string>;
}

/** A history query exactly as the app gets it from a query string. */
function historyQuery(params: Record<string, string>): HistoryQuery {
  const parsed = parseHistoryQuery(params);
  if (!parsed.ok) {
    throw new Error(
      `invalid history query: ${parsed.issues.map((i) => `${i.field} ${i.message}`).join("; ")}`,
    );
  }
  return parsed.query;
}

/**
 * The `after=` cursor of the page that starts `depth` rows down the
 * unfiltered history: the position of row number `depth`, newest first.
 */
async function cursorAtDepth(sql: Sql, depth: number): Promise<string> {
  // .values(): the row as an array, whatever column transform the pool has.
  const rows = await sql`
    SELECT e.id::text, ${cursorTime(sql, sql`e.started_at`)}
    FROM job_executions e
    ORDER BY e.started_at DESC, e.id DESC
    OFFSET ${depth - 1}::int
    LIMIT 1
  `.values();
  if (rows.length === 0) throw new Error(`the history has fewer than ${depth} executions`);
  const [id, startedAt] = rows[0] as [string, string];
  return encodeCursor({ startedAt, id });
}

/** The four screens, each with the seed's statements and Jobwatch's query functions. */
async function screens(sql: Sql, depth: number, pageSize: number): Promise<Screen[]> {
  const seed = await readSeedQueries();
  const limit = String(pageSize);
  const historyPage = (offset: number): Statement[] => [
    { label: "history_page_offset", text: seed.history_page_offset, params: [pageSize, offset] },
    { label: "history_count", text: seed.history_count, params: [] },
    { label: "history_definitions", text: seed.history_definitions, params: [] },
  ];
  // GET /api/admin/jobs, the seed's history route's counterpart, loads these two together.
  const ourHistory = (query: HistoryQuery) => () =>
    Promise.all([listExecutions(sql, query), listJobDefinitions(sql)]);
  const deepQuery = historyQuery({ after: await cursorAtDepth(sql, depth), limit });
  const firstQuery = historyQuery({ limit });

  const critical = BENCH_JOBS.filter((bench) => bench.job.critical).map((bench) => bench.id);
  const healthJobs = critical.length >= 3 ? critical : BENCH_JOBS.map((bench) => bench.id);
  const healthWhich = critical.length >= 3
    ? `${healthJobs.length} critical bench jobs`
    : `all ${healthJobs.length} bench jobs (fewer than 3 are critical)`;

  return [
    {
      name: `history-depth-${depth}`,
      screen: `history page ${depth.toLocaleString("en")} rows deep (${pageSize} rows)`,
      seed: historyPage(depth),
      ours: ourHistory(deepQuery),
    },
    {
      name: "history-page-1",
      screen: `history page 1 (${pageSize} rows)`,
      seed: historyPage(0),
      ours: ourHistory(firstQuery),
    },
    {
      name: "dashboard",
      screen: "dashboard",
      seed: [
        { label: "dashboard_definitions", text: seed.dashboard_definitions, params: [] },
        { label: "dashboard_recent_100", text: seed.dashboard_recent_100, params: [] },
        { label: "dashboard_stats_24h", text: seed.dashboard_stats_24h, params: [] },
      ],
      // What GET /admin/jobs (routes/admin/jobs.tsx) loads, with no query string.
      ours: () => Promise.all([listJobSummaries(sql, new Date()), listExecutions(sql, historyQuery({}))]),
    },
    {
      name: "health-check",
      screen: `health check, seed: one query per job for ${healthWhich}`,
      seed: healthJobs.map((id) => ({
        label: `health_last_success (${id})`,
        text: seed.health_last_success,
        params: [id],
      })),
      ours: () => listJobHealthRows(sql),
    },
  ];
}

function runStatements(sql: Sql, statements: Statement[]): Promise<unknown> {
  return Promise.all(statements.map((statement) => sql.unsafe(statement.text, bind(sql, statement))));
}

function bind(sql: Sql, statement: Statement) {
  const { types } = statement;
  // deno-lint-ignore no-explicit-any -- the captured parameters are whatever the query functions passed.
  return statement.params.map((value: any, index) => types?.[index] ? sql.typed(value, types[index]) : value);
}

async function wallMs(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median times of both sides; runs alternate, so a drift in the machine's load hits both alike. */
async function timeScreen(
  seed: () => Promise<unknown>,
  ours: () => Promise<unknown>,
  iterations: number,
): Promise<{ seedMs: number; oursMs: number }> {
  for (let run = 0; run < WARM_UP_RUNS; run++) {
    await seed();
    await ours();
  }
  const seedTimes: number[] = [];
  const ourTimes: number[] = [];
  for (let run = 0; run < iterations; run++) {
    seedTimes.push(await wallMs(seed));
    ourTimes.push(await wallMs(ours));
  }
  return { seedMs: median(seedTimes), oursMs: median(ourTimes) };
}

/** The type cache query postgres.js sends on a new connection, which is no query function's. */
const DRIVER_STATEMENT = /pg_catalog\.pg_type/;

/**
 * The statements a run of query functions sends, with their parameters.
 * postgres.js calls its `debug` option with each statement as it builds it
 * (src/connection.js reads `options.debug` per query), so setting it on the
 * pool for one run records what the functions send, on any server,
 * PGlite's single connection included. Nothing else may use the pool then.
 */
async function captureStatements(sql: Sql, run: () => Promise<unknown>): Promise<Statement[]> {
  const captured: Statement[] = [];
  const previous = sql.options.debug;
  sql.options.debug = (_connection, text, parameters, types) => {
    if (DRIVER_STATEMENT.test(text)) return;
    captured.push({
      label: `statement ${captured.length + 1}`,
      text: text.trim(),
      params: [...parameters],
      types: [...types],
    });
  };
  try {
    await run();
  } finally {
    sql.options.debug = previous;
  }
  if (captured.length === 0) {
    throw new Error("no statement was recorded: this postgres.js no longer reads the debug option per query");
  }
  return captured;
}

/** A leading EXPLAIN of a statement that is itself one (a planner estimate), which EXPLAIN cannot wrap. */
const OWN_EXPLAIN = /^EXPLAIN\s*(\([^)]*\))?\s+/i;

/**
 * The plan of a statement, run: EXPLAIN (ANALYZE, BUFFERS). A statement that
 * is itself an EXPLAIN only plans, so its inner statement is planned too.
 */
async function explain(sql: Sql, statement: Statement): Promise<string> {
  const planOnly = OWN_EXPLAIN.test(statement.text);
  const explained = planOnly
    ? `EXPLAIN (BUFFERS, SUMMARY) ${statement.text.replace(OWN_EXPLAIN, "")}`
    : `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`;
  const rows = await sql.unsafe(explained, bind(sql, statement)).values();
  const plan = rows.map((row) => String(row[0])).join("\n");
  return planOnly ? `(an EXPLAIN itself: planned, not run)\n${plan}` : plan;
}

async function writePlans(sql: Sql, file: string, title: string, statements: Statement[]): Promise<void> {
  const sections = [`# ${title}: ${statements.length} statement(s), sent together\n`];
  for (const statement of statements) {
    sections.push(
      [
        `===== ${statement.label} =====`,
        `parameters: ${JSON.stringify(statement.params)}`,
        "",
        statement.text,
        "",
        "----- plan -----",
        await explain(sql, statement),
        "",
      ].join("\n"),
    );
  }
  await Deno.writeTextFile(file, sections.join("\n"));
}

/**
 * Times the seed's statements (bench/seed_queries.sql) against Jobwatch's
 * query functions for each screen on `sql`, a pool made by lib/db/mod.ts
 * (its camelCase column transform is what the functions expect), over a
 * seeded history of at least `depth + pageSize` executions; writes each
 * side's plans to `<outDir>/<name>.seed.txt` and `<name>.ours.txt`.
 * Nothing else may use the pool meanwhile.
 */
export async function compareWithSeed(sql: Sql, options: CompareOptions): Promise<QueryComparison[]> {
  const depth = options.depth ?? 50_000;
  const iterations = options.iterations ?? 15;
  const pageSize = options.pageSize ?? 50;
  if (!Number.isInteger(depth) || depth < 1) {
    throw new Error(`depth must be a whole number ≥ 1, not ${depth}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new Error(`iterations must be ≥ 1, not ${iterations}`);
  }
  const outDir = options.outDir.replace(/\/+$/, "");
  await Deno.mkdir(outDir, { recursive: true });

  const comparisons: QueryComparison[] = [];
  for (const screen of await screens(sql, depth, pageSize)) {
    const { seedMs, oursMs } = await timeScreen(
      () => runStatements(sql, screen.seed),
      screen.ours,
      iterations,
    );
    // Names relative to outDir, so the results can link them wherever they are committed.
    const seedPlanFile = `${screen.name}.seed.txt`;
    const oursPlanFile = `${screen.name}.ours.txt`;
    await writePlans(sql, `${outDir}/${seedPlanFile}`, `${screen.screen}, the seed`, screen.seed);
    await writePlans(
      sql,
      `${outDir}/${oursPlanFile}`,
      `${screen.screen}, Jobwatch`,
      await captureStatements(sql, screen.ours),
    );
    comparisons.push({
      name: screen.name,
      screen: screen.screen,
      seedMs,
      oursMs,
      ratio: seedMs / oursMs,
      seedPlanFile,
      oursPlanFile,
    });
  }
  return comparisons;
}

/** The comparisons as a Markdown table. */
export function formatComparisons(rows: QueryComparison[]): string {
  const ms = (value: number) => value < 10 ? value.toFixed(2) : value.toFixed(1);
  return [
    "| screen | seed ms | ours ms | seed/ours |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${row.screen.replaceAll("|", "\\|")} | ${ms(row.seedMs)} | ${ms(row.oursMs)} | ${
        row.ratio.toFixed(1)
      }× |`
    ),
  ].join("\n");
}
