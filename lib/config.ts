/**
 * Configuration, read once from the environment at start-up.
 *
 * Every variable is validated here; a bad value stops start-up with one line
 * that names the variable and says what is wrong (see `ConfigError`).
 */
import { z } from "zod";
import { isEmailAddress } from "./queries/users.ts";

const ENV_VARS = [
  "PORT",
  "HOST",
  "APP_URL",
  "DATABASE_URL",
  "PGLITE_DIR",
  "ADMIN_EMAIL",
  "ADMIN_PASSWORD",
  "RESEND_API_KEY",
  "RESEND_BASE_URL",
  "ALERT_FROM",
  "ALERT_TO",
  "ALERT_WEBHOOK_URL",
  "SESSION_IDLE_HOURS",
  "SESSION_MAX_DAYS",
  "TRUST_PROXY",
  "LOG_LEVEL",
  "JOBWATCH_EXAMPLES",
  "HEALTH_TOKEN",
  "METRICS_TOKEN",
  "BADGES",
  "JOB_RETENTION_DAYS",
  "HEALTH_CACHE_SECONDS",
] as const;

type EnvName = (typeof ENV_VARS)[number];

/** Raised for an invalid environment; its message is the one line to print. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const integer = (min: number, max: number) =>
  z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (!/^\s*-?\d+\s*$/.test(raw) || value < min || value > max) {
      ctx.addIssue({
        code: "custom",
        message: `expected an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    }
    return value;
  });

const number = (min: number, max: number) =>
  z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
      ctx.addIssue({
        code: "custom",
        message: `expected a number between ${min} and ${max}, got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    }
    return value;
  });

const boolean = z.string().transform((raw, ctx) => {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  ctx.addIssue({
    code: "custom",
    message: `expected true or false, got ${JSON.stringify(raw)}`,
  });
  return z.NEVER;
});

const onOff = z.string().transform((raw, ctx) => {
  const value = raw.trim().toLowerCase();
  if (value === "on" || value === "true") return true;
  if (value === "off" || value === "false") return false;
  ctx.addIssue({ code: "custom", message: `expected on or off, got ${JSON.stringify(raw)}` });
  return z.NEVER;
});

const httpUrl = z.string().transform((raw, ctx) => {
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") {
      return url.href.replace(/\/$/, "");
    }
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: `expected an http(s) URL such as https://jobs.example.com, got ${JSON.stringify(raw)}`,
  });
  return z.NEVER;
});

/** An http(s) URL that is a secret (a Slack webhook's path is its key): a bad value is not echoed. */
const secretHttpUrl = z.string().transform((raw, ctx) => {
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: "expected an http(s) URL such as https://hooks.slack.com/services/…",
  });
  return z.NEVER;
});

const postgresUrl = z.string().transform((raw, ctx) => {
  try {
    const url = new URL(raw);
    if (url.protocol === "postgres:" || url.protocol === "postgresql:") return raw;
  } catch {
    // reported below
  }
  // Never echo the value: a connection string usually carries a password.
  ctx.addIssue({
    code: "custom",
    message: "expected a URL of the form postgres://user:password@host:5432/database",
  });
  return z.NEVER;
});

const email = z.string().trim().toLowerCase().refine(isEmailAddress, {
  error: (issue) => `expected an e-mail address, got ${JSON.stringify(issue.input)}`,
});

const emailList = z.string().transform((raw, ctx) => {
  const addresses = raw.split(",").map((part) => part.trim()).filter(Boolean);
  for (const address of addresses) {
    if (!isEmailAddress(address)) {
      ctx.addIssue({
        code: "custom",
        message: `expected comma-separated e-mail addresses, got ${JSON.stringify(address)}`,
      });
      return z.NEVER;
    }
  }
  return addresses;
});

const schema = z.object({
  PORT: integer(0, 65535).default(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  APP_URL: httpUrl.optional(),
  DATABASE_URL: postgresUrl.optional(),
  PGLITE_DIR: z.string().min(1, "must not be empty").default("./data/pglite"),
  ADMIN_EMAIL: email.optional(),
  ADMIN_PASSWORD: z.string().min(
    12,
    "must be at least 12 characters long",
  ).optional(),
  RESEND_API_KEY: z.string().min(1).optional(),
  RESEND_BASE_URL: httpUrl.optional(),
  ALERT_FROM: z.string().min(3).default("Jobwatch <jobwatch@localhost>"),
  ALERT_TO: emailList.default([]),
  ALERT_WEBHOOK_URL: secretHttpUrl.optional(),
  SESSION_IDLE_HOURS: number(0.05, 24 * 30).default(12),
  SESSION_MAX_DAYS: number(0.01, 365).default(7),
  TRUST_PROXY: boolean.default(false),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"], {
    error: (issue) => `expected one of debug, info, warn, error, got ${JSON.stringify(issue.input)}`,
  }).default("info"),
  JOBWATCH_EXAMPLES: onOff.default(true),
  HEALTH_TOKEN: z.string().min(16, "must be at least 16 characters long").optional(),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters long").optional(),
  BADGES: onOff.default(false),
  JOB_RETENTION_DAYS: integer(0, 3650).default(90),
  HEALTH_CACHE_SECONDS: integer(0, 300).default(5),
}).superRefine((env, ctx) => {
  if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [env.ADMIN_EMAIL === undefined ? "ADMIN_EMAIL" : "ADMIN_PASSWORD"],
      message: "ADMIN_EMAIL and ADMIN_PASSWORD must be set together",
    });
  }
});

export interface Config {
  port: number;
  host: string;
  /** The public origin of the app, without a trailing slash. */
  appUrl: string;
  /** Whether APP_URL is https: cookies get `Secure` and the `__Host-` prefix. */
  secureCookies: boolean;
  databaseUrl: string | null;
  pgliteDir: string;
  admin: { email: string; password: string } | null;
  resend: { apiKey: string | null; baseUrl: string | null };
  alertFrom: string;
  alertTo: string[];
  /** Where alerts are also POSTed as JSON (Slack-formatted for a Slack incoming webhook). A secret. */
  alertWebhookUrl: string | null;
  sessionIdleMs: number;
  sessionMaxMs: number;
  trustProxy: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Whether the shipped example jobs (and their demo data) are declared. */
  examples: boolean;
  /** When set, /health/jobs needs it (`?token=` or a Bearer header). */
  healthToken: string | null;
  /** When set, /metrics needs it. */
  metricsToken: string | null;
  /** Whether the public status badges at /badge/:jobId.svg are served. */
  badges: boolean;
  /** How long a health or metrics answer is reused; 0 reads the database for every request. */
  healthCacheSeconds: number;
  /** Days of run and alert history the nightly jobwatch-retention job keeps; 0 keeps it forever. */
  retentionDays: number;
}

/**
 * Parses the environment into a `Config`, or throws `ConfigError` whose
 * message names the first bad variable, e.g.
 * `PORT: expected an integer between 0 and 65535, got "abc"`.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Partial<Record<EnvName, string>> = {};
  for (const name of ENV_VARS) {
    const value = env[name];
    // An empty variable means "unset", as in most twelve-factor tools.
    if (value !== undefined && value !== "") input[name] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0] ?? "environment");
    throw new ConfigError(`${variable}: ${issue.message}`);
  }
  const values = parsed.data;
  const appUrl = values.APP_URL ??
    `http://${values.HOST === "0.0.0.0" ? "localhost" : values.HOST}:${values.PORT}`;
  return {
    port: values.PORT,
    host: values.HOST,
    appUrl,
    secureCookies: appUrl.startsWith("https:"),
    databaseUrl: values.DATABASE_URL ?? null,
    pgliteDir: values.PGLITE_DIR,
    admin: values.ADMIN_EMAIL && values.ADMIN_PASSWORD
      ? { email: values.ADMIN_EMAIL, password: values.ADMIN_PASSWORD }
      : null,
    resend: {
      apiKey: values.RESEND_API_KEY ?? null,
      baseUrl: values.RESEND_BASE_URL ?? null,
    },
    alertFrom: values.ALERT_FROM,
    alertTo: values.ALERT_TO,
    alertWebhookUrl: values.ALERT_WEBHOOK_URL ?? null,
    sessionIdleMs: values.SESSION_IDLE_HOURS * 3600_000,
    sessionMaxMs: values.SESSION_MAX_DAYS * 86400_000,
    trustProxy: values.TRUST_PROXY,
    logLevel: values.LOG_LEVEL,
    examples: values.JOBWATCH_EXAMPLES,
    healthToken: values.HEALTH_TOKEN ?? null,
    metricsToken: values.METRICS_TOKEN ?? null,
    badges: values.BADGES,
    retentionDays: values.JOB_RETENTION_DAYS,
    healthCacheSeconds: values.HEALTH_CACHE_SECONDS,
  };
}

/** The variables `loadConfig` reads, for documentation and tests. */
export const CONFIG_VARIABLES: readonly string[] = ENV_VARS;
