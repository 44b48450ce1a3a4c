/**
 * The benchmark's jobs: 50 in-process jobs with the mix of schedules a SaaS
 * has (queue pollers every minute down to nightly reports), and the 500 the
 * tick scenario schedules. The seed and the app under test both declare
 * them from here, so the app does not retire the seeded jobs at start-up.
 */
import { defineJob, type Job } from "../lib/jobs/define.ts";

/** How often a group of bench jobs runs, and how many jobs it has. */
interface JobGroup {
  prefix: string;
  label: string;
  schedule: string;
  intervalMinutes: number;
  count: number;
  /** Typical duration of a run, ms. */
  typicalMs: number;
}

const GROUPS: JobGroup[] = [
  {
    prefix: "queue-poll",
    label: "Queue Poller",
    schedule: "rate(1 minute)",
    intervalMinutes: 1,
    count: 5,
    typicalMs: 120,
  },
  {
    prefix: "sync",
    label: "Sync",
    schedule: "rate(5 minutes)",
    intervalMinutes: 5,
    count: 10,
    typicalMs: 900,
  },
  {
    prefix: "refresh",
    label: "Refresh",
    schedule: "rate(15 minutes)",
    intervalMinutes: 15,
    count: 15,
    typicalMs: 2500,
  },
  {
    prefix: "rollup",
    label: "Hourly Rollup",
    schedule: "rate(1 hour)",
    intervalMinutes: 60,
    count: 10,
    typicalMs: 8000,
  },
  {
    prefix: "report",
    label: "Nightly Report",
    schedule: "cron(0 2 * * ? *)",
    intervalMinutes: 1440,
    count: 10,
    typicalMs: 45000,
  },
];

/** One seeded job: its id, how often it runs and how long it usually takes. */
export interface BenchJob {
  id: string;
  intervalMinutes: number;
  typicalMs: number;
  job: Job;
}

/** The 50 jobs whose history the bench seeds, in a fixed order. */
export const BENCH_JOBS: BenchJob[] = GROUPS.flatMap((group) =>
  Array.from({ length: group.count }, (_, index) => {
    const number = String(index + 1).padStart(2, "0");
    const id = `${group.prefix}-${number}`;
    return {
      id,
      intervalMinutes: group.intervalMinutes,
      typicalMs: group.typicalMs,
      job: defineJob({
        id,
        displayName: `${group.label} ${number}`,
        description: `Benchmark job: ${group.schedule}, about ${group.typicalMs} ms a run.`,
        schedule: group.schedule,
        critical: index === 0,
        run: () => ({ ok: true }),
      }),
    };
  })
);

/**
 * The 500 jobs of the tick scenario: every tenth runs each minute, the rest
 * every 5, 15 or 60 minutes, so a tick starts a few and passes over most.
 */
export function tickJobs(count = 500): Job[] {
  const schedules = ["rate(5 minutes)", "rate(15 minutes)", "cron(0 * * * ? *)", "*/10 * * * *"];
  return Array.from({ length: count }, (_, index) => {
    const number = String(index + 1).padStart(3, "0");
    return defineJob({
      id: `tick-${number}`,
      displayName: `Tick ${number}`,
      schedule: index % 10 === 0 ? "rate(1 minute)" : schedules[index % schedules.length],
      timezone: index % 3 === 0 ? "Europe/Berlin" : "UTC",
      run: () => ({ ok: true }),
    });
  });
}

/**
 * The external jobs the ingest scenario reports runs for over the runs API:
 * one per client, as 16 workers (Lambdas, CronJobs) would each report their own job.
 */
export const INGEST_JOBS: Job[] = Array.from({ length: 16 }, (_, index) => {
  const number = String(index + 1).padStart(2, "0");
  return defineJob({
    id: `external-${number}`,
    displayName: `External Worker ${number}`,
    description: "Benchmark job: an external worker reporting start and complete over HTTP.",
    schedule: "rate(1 minute)",
    external: true,
  });
});

/** Every job the app under test declares besides its built-in ones. */
export const APP_JOBS: Job[] = [...BENCH_JOBS.map((bench) => bench.job), ...INGEST_JOBS];
