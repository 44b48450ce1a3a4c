/**
 * An alert worker as its own process, for the kill -9 test: it delivers the
 * outbox of DATABASE_URL once through Resend at RESEND_BASE_URL, with the
 * clock at JOBWATCH_NOW, and exits. The test kills it mid-send.
 */
import { createResendChannel } from "../../lib/alerts/channels.ts";
import { AlertWorker } from "../../lib/alerts/worker.ts";
import { connectPostgres } from "../../lib/db/mod.ts";
import { createMemoryLogger } from "../../lib/log.ts";

const db = connectPostgres(Deno.env.get("DATABASE_URL")!, { max: 2 });
const now = new Date(Deno.env.get("JOBWATCH_NOW")!);
const worker = new AlertWorker({
  sql: db.sql,
  log: createMemoryLogger(),
  now: () => now,
  instanceId: `process-${Deno.pid}`,
  channels: {
    email: createResendChannel({
      apiKey: Deno.env.get("RESEND_API_KEY")!,
      baseUrl: Deno.env.get("RESEND_BASE_URL")!,
      from: "Jobwatch <jobs@example.com>",
      appUrl: "https://jobs.example.com",
      timeoutMs: 600_000,
    }),
  },
});
await worker.deliverDue();
await db.close();
