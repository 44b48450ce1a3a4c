/** The example jobs shipped with Jobwatch; on unless JOBWATCH_EXAMPLES=off. */
import type { Job } from "../define.ts";
import { nightlyBackupJob } from "./nightly_backup.ts";
import { paymentRetryJob } from "./payment_retry.ts";
import { sessionCleanupJob } from "./session_cleanup.ts";
import { usageReportJob } from "./usage_report.ts";
import { weeklyDigestJob } from "./weekly_digest.ts";

export { seedDemoData } from "./demo_data.ts";

export const exampleJobs: Job[] = [
  sessionCleanupJob,
  usageReportJob,
  weeklyDigestJob,
  paymentRetryJob,
  nightlyBackupJob,
];
