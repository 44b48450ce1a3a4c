/**
 * The runs API for external jobs, authenticated by the job's bearer token
 * (not by a session): validate the body, then hand it with the token to
 * lib/jobs/external.ts, whose write checks the token. A request refused for
 * its body is refused for its token first, if the token is bad.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../lib/http/context.ts";
import {
  authorizeExecution,
  authorizeJob,
  checkedAfterAuthorization,
  completeRun,
  type ExternalRunDeps,
  failRun,
  MAX_DURATION_MS,
  reportRun,
  startRun,
} from "../../lib/jobs/external.ts";
import { readJson } from "../../lib/http/json.ts";
import { hasControlCharacter } from "../../lib/text.ts";

const periodKey = z.string({ error: "periodKey must be a string, e.g. 2027-03-01" })
  .trim()
  .min(1, { error: "periodKey must not be empty" })
  .max(200, { error: "periodKey must be at most 200 characters" })
  .refine((value) => !hasControlCharacter(value), { error: "periodKey must not contain control characters" });
const executionId = z.string({ error: "executionId must be a string, e.g. the AWS request id" })
  .trim()
  .min(1, { error: "executionId must not be empty" })
  .max(200, { error: "executionId must be at most 200 characters" })
  .refine((value) => !hasControlCharacter(value), {
    error: "executionId must not contain control characters",
  });
const metadata = z.record(z.string(), z.unknown(), { error: "metadata must be a JSON object" });
const exitCode = z.int32({ error: "exitCode must be an integer from -2147483648 to 2147483647" });
const log = z.string({ error: "log must be a string: the tail of the job's output" });
const error = z.string({ error: "error must be a string that says what went wrong" })
  .trim()
  .min(1, { error: "error must not be empty: say what went wrong" });
const startedAt = z.iso.datetime({
  offset: true,
  error: "startedAt must be an ISO 8601 date-time with a zone, e.g. 2027-03-01T02:00:00Z",
}).refine((value) => new Date(value).getUTCFullYear() >= 2000, {
  error: "startedAt must be in the year 2000 or later",
});
const durationMs = z.int({ error: "durationMs must be a whole number of milliseconds" })
  .min(0, { error: "durationMs must not be negative" })
  .max(MAX_DURATION_MS, { error: `durationMs must be at most ${MAX_DURATION_MS} (24 days)` });
const status = z.enum(["completed", "failed"], { error: 'status must be "completed" or "failed"' });

/** A strict object whose own errors name the offending field and list the accepted ones. */
function body<Shape extends z.ZodRawShape>(shape: Shape) {
  const accepted = Object.keys(shape).join(", ");
  return z.object(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        return `Unknown field ${
          issue.keys.map((key) => JSON.stringify(key)).join(", ")
        }; accepted: ${accepted}.`;
      }
      if (issue.code === "invalid_type") return `The body must be a JSON object with the fields ${accepted}.`;
      return undefined;
    },
  }).strict();
}

const StartBody = body({
  periodKey: periodKey.optional(),
  executionId: executionId.optional(),
  metadata: metadata.optional(),
});

const CompleteBody = body({
  result: z.unknown().optional(),
  exitCode: exitCode.optional(),
  log: log.optional(),
});

const FailBody = body({ error, exitCode: exitCode.optional(), log: log.optional() });

const ReportBody = body({
  status,
  startedAt: startedAt.optional(),
  durationMs: durationMs.optional(),
  result: z.unknown().optional(),
  error: error.optional(),
  exitCode: exitCode.optional(),
  log: log.optional(),
  periodKey: periodKey.optional(),
  executionId: executionId.optional(),
  metadata: metadata.optional(),
}).superRefine((report, ctx) => {
  if (report.status === "failed" && report.error === undefined) {
    ctx.addIssue({ code: "custom", path: ["error"], message: 'error is required when status is "failed"' });
  }
  if (report.status === "completed" && report.error !== undefined) {
    ctx.addIssue({ code: "custom", path: ["error"], message: 'error is only for status "failed"' });
  }
});

function runDeps(c: Context<AppEnv>): ExternalRunDeps {
  const { deps } = c.var;
  return { sql: deps.sql, now: deps.now, ...deps.jobs };
}

/** Like `readJson`, but where `{}` is a valid body, a request with none at all (`curl -X POST`) counts as `{}`. */
async function readOptionalJson<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  if (c.req.header("content-type") === undefined && (await c.req.text()) === "") {
    const empty = schema.safeParse({});
    if (empty.success) return empty.data;
  }
  return await readJson(c, schema);
}

/**
 * POST /api/runs/:jobId/start { periodKey?, executionId?, metadata? } → 201 { id, periodKey, status };
 * 200 with the existing run (and its status) when the period already has one.
 */
export async function start(c: Context<AppEnv>) {
  const deps = runDeps(c);
  const jobId = c.req.param("jobId")!;
  const authorization = c.req.header("authorization");
  const input = await checkedAfterAuthorization(
    () => readOptionalJson(c, StartBody),
    () => authorizeJob(deps, authorization, jobId),
  );
  const run = await startRun(deps, authorization, jobId, input);
  return c.json({ id: run.id, periodKey: run.periodKey, status: run.status }, run.created ? 201 : 200);
}

/** POST /api/runs/:id/complete { result?, exitCode?, log? } → 200 { id, status: "completed" } */
export async function complete(c: Context<AppEnv>) {
  const deps = runDeps(c);
  const id = c.req.param("id")!;
  const authorization = c.req.header("authorization");
  const input = await checkedAfterAuthorization(
    () => readOptionalJson(c, CompleteBody),
    () => authorizeExecution(deps, authorization, id),
  );
  return c.json(await completeRun(deps, authorization, id, input));
}

/** POST /api/runs/:id/fail { error, exitCode?, log? } → 200 { id, status: "failed" } */
export async function fail(c: Context<AppEnv>) {
  const deps = runDeps(c);
  const id = c.req.param("id")!;
  const authorization = c.req.header("authorization");
  const input = await checkedAfterAuthorization(
    () => readJson(c, FailBody),
    () => authorizeExecution(deps, authorization, id),
  );
  return c.json(await failRun(deps, authorization, id, input));
}

/** POST /api/runs/:jobId { status, startedAt?, durationMs?, result?, error?, … } → 201 { id } */
export async function report(c: Context<AppEnv>) {
  const deps = runDeps(c);
  const jobId = c.req.param("jobId")!;
  const authorization = c.req.header("authorization");
  const input = await checkedAfterAuthorization(
    () => readJson(c, ReportBody),
    () => authorizeJob(deps, authorization, jobId),
  );
  return c.json(await reportRun(deps, authorization, jobId, input), 201);
}
