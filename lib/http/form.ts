/** Reading an HTML form's POST body. */
import type { Context } from "hono";
import type { AppEnv } from "./context.ts";
import { HttpError } from "./errors.ts";

/** The fields of a urlencoded (or multipart) form; 415 for another body, 400 for one that cannot be read. */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    throw new HttpError(415, "Send this form as application/x-www-form-urlencoded.");
  }
  try {
    return await c.req.parseBody();
  } catch {
    throw new HttpError(400, "The form could not be read.");
  }
}
