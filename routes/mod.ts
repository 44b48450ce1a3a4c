/**
 * The route table, written out: easy to read, safe on Deno Deploy, and
 * walked by the tests so no route escapes the access and input checks.
 */
import type { Handler } from "hono";
import type { AppEnv } from "../lib/http/context.ts";
import * as adminJobs from "./admin/jobs.tsx";
import * as index from "./index.ts";
import * as login from "./login.tsx";
import * as logout from "./logout.ts";

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** `public`: anyone; `user`: a signed-in viewer or admin (writes need an admin). */
  access: "public" | "user";
  handler: Handler<AppEnv>;
}

export const routes: Route[] = [
  { method: "GET", path: "/", access: "public", handler: index.GET },
  { method: "GET", path: "/login", access: "public", handler: login.GET },
  { method: "POST", path: "/login", access: "public", handler: login.POST },
  { method: "POST", path: "/logout", access: "public", handler: logout.POST },
  { method: "GET", path: "/admin/jobs", access: "user", handler: adminJobs.GET },
];
