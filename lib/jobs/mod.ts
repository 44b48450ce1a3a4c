/**
 * The jobs this deployment declares. Add your own here: write a module that
 * exports `defineJob({ … })` (see lib/jobs/examples/ for working ones),
 * import it, and list it in `userJobs`.
 */
import type { Config } from "../config.ts";
import type { Job } from "./define.ts";
import { exampleJobs } from "./examples/mod.ts";
import { retentionJob } from "./retention.ts";
// import { invoiceExportJob } from "./invoice_export.ts";

/** What of the configuration decides which jobs are declared. */
export type JobsConfig = Pick<Config, "examples" | "retentionDays">;

/** Your own jobs; they are declared whether or not the examples are on. */
const userJobs: Job[] = [
  // invoiceExportJob,
];

/** Jobwatch's own housekeeping, declared on every install whatever `config.examples` says. */
export function builtInJobs(config: JobsConfig): Job[] {
  return [retentionJob(config.retentionDays)];
}

/** The jobs to register: the built-in ones, the shipped examples when `config.examples` is on, then your own. */
export function declaredJobs(config: JobsConfig): Job[] {
  return [...builtInJobs(config), ...(config.examples ? exampleJobs : []), ...userJobs];
}
