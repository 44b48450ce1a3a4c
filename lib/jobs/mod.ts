/**
 * The jobs this deployment declares. Add your own here: write a module that
 * exports `defineJob({ … })` (see lib/jobs/examples/ for working ones),
 * import it, and list it in `userJobs`.
 */
import type { Job } from "./define.ts";
import { exampleJobs } from "./examples/mod.ts";
// import { invoiceExportJob } from "./invoice_export.ts";

/** Your own jobs; they are declared whether or not the examples are on. */
const userJobs: Job[] = [
  // invoiceExportJob,
];

/** The jobs to register: the shipped examples when `config.examples` is on, then your own. */
export function declaredJobs(config: { examples: boolean }): Job[] {
  return config.examples ? [...exampleJobs, ...userJobs] : [...userJobs];
}
