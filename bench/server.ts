/**
 * The app under test: Jobwatch's own start-up (main.ts) with the bench jobs
 * declared, and without the minute tick, so the scenarios measure pages and
 * the runs API rather than jobs started by the clock.
 */
import { startWithoutCron } from "../main.ts";
import { APP_JOBS } from "./jobs.ts";

await startWithoutCron({ extraJobs: APP_JOBS });
