/**
 * `nightly-backup`: an external job. It runs elsewhere (a cron entry, a
 * Lambda, a Kubernetes CronJob) and reports its runs to Jobwatch over the
 * runs API with a job token; Jobwatch only records and watches it.
 */
import { defineJob, type Job } from "../define.ts";

export const nightlyBackupJob: Job = defineJob({
  id: "nightly-backup",
  displayName: "Nightly Backup",
  external: true,
  description: "Example external job: the backup runs outside Jobwatch (a cron entry, a Lambda) and " +
    "reports each run over the runs API with a job token. Critical: no recent success fails the health check.",
  schedule: "cron(0 2 * * ? *)",
  // A backup can take a while; a run not reported within this is failed as lost.
  timeoutSeconds: 2 * 3600,
  timezone: "UTC",
  critical: true,
});
