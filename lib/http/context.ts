/** What every request handler can reach: configuration, database, clock, user. */
import type { JobSummaryCache } from "../dashboard_cache.ts";
import type { Config } from "../config.ts";
import type { Sql } from "../db/mod.ts";
import type { HealthMonitor } from "../health/monitor.ts";
import type { JobsRuntime } from "../jobs/trigger.ts";
import type { SessionUser } from "../queries/sessions.ts";

export interface AppDeps {
  config: Config;
  sql: Sql;
  /** The clock; tests inject a fake one. */
  now: () => Date;
  log: Logger;
  /** The job registry, the runner and the event bus of this instance. */
  jobs: JobsRuntime;
  /** Health and metrics, cached; createApp makes one when it is not given. */
  health?: HealthMonitor;
  /** The dashboard's job summaries, shared between requests; createApp makes an uncached one when not given. */
  dashboard?: JobSummaryCache;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type AppEnv = {
  Variables: {
    deps: AppDeps;
    user: SessionUser | null;
    clientIp: string | null;
  };
};
