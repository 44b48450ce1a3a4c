/**
 * Loads the declared jobs. Jobs are defined at module level, so a bad
 * definition throws while lib/jobs/mod.ts is evaluated; importing it here,
 * late, turns that into a JobDefinitionError the caller reports in one line
 * instead of a crash with a stack trace at start-up.
 */
import { createRegistry, type Job } from "./define.ts";
import type { JobsConfig } from "./mod.ts";

export async function loadJobs(config: JobsConfig): Promise<Map<string, Job>> {
  const { declaredJobs } = await import("./mod.ts");
  return createRegistry(declaredJobs(config));
}
