/** JSON request bodies, validated once at the edge. */
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "./context.ts";
import { HttpError } from "./errors.ts";

/** Reads a small JSON body, or throws the 4xx that says what is wrong with it. */
export async function readJson<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  if (!(c.req.header("content-type") ?? "").startsWith("application/json")) {
    throw new HttpError(415, "Send a JSON body with Content-Type: application/json.");
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError(400, "The body is not valid JSON.");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new HttpError(400, parsed.error.issues[0].message, {
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    });
  }
  return parsed.data;
}
