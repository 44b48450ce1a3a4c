import type { Context } from "hono";
import type { AppEnv } from "../lib/http/context.ts";

/** `/` goes to the dashboard (which sends anonymous visitors to sign in). */
export function GET(c: Context<AppEnv>) {
  return c.redirect("/admin/jobs", 303);
}
