import assert from "node:assert/strict";
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../lib/config.ts";

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("an empty environment gives a working local setup on the embedded database", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.appUrl, "http://127.0.0.1:8000");
  assert.equal(config.databaseUrl, null);
  assert.equal(config.pgliteDir, "./data/pglite");
  assert.equal(config.secureCookies, false);
  assert.equal(config.admin, null);
  assert.deepEqual(config.alertTo, []);
});

Deno.test("a bad PORT names the variable, the rule and the value", () => {
  assert.equal(configError({ PORT: "abc" }), 'PORT: expected an integer between 0 and 65535, got "abc"');
  assert.equal(configError({ PORT: "70000" }), 'PORT: expected an integer between 0 and 65535, got "70000"');
  assert.equal(configError({ PORT: "80.5" }), 'PORT: expected an integer between 0 and 65535, got "80.5"');
});

Deno.test("an https APP_URL turns on secure cookies and loses its trailing slash", () => {
  const config = loadConfig({ APP_URL: "https://jobs.example.com/" });
  assert.equal(config.appUrl, "https://jobs.example.com");
  assert.equal(config.secureCookies, true);
  assert.match(configError({ APP_URL: "jobs.example.com" }), /^APP_URL: expected an http\(s\) URL/);
});

Deno.test("a malformed DATABASE_URL is refused without echoing it (it may hold a password)", () => {
  const message = configError({ DATABASE_URL: "mysql://root:hunter2@db/app" });
  assert.match(message, /^DATABASE_URL: expected a URL of the form postgres:\/\//);
  assert.ok(!message.includes("hunter2"));
  assert.equal(
    loadConfig({ DATABASE_URL: "postgres://u:p@db:5432/jobwatch" }).databaseUrl,
    "postgres://u:p@db:5432/jobwatch",
  );
});

Deno.test("ADMIN_EMAIL and ADMIN_PASSWORD go together, and the password must be long enough", () => {
  assert.equal(
    configError({ ADMIN_EMAIL: "ops@example.com" }),
    "ADMIN_PASSWORD: ADMIN_EMAIL and ADMIN_PASSWORD must be set together",
  );
  assert.equal(
    configError({ ADMIN_EMAIL: "ops@example.com", ADMIN_PASSWORD: "short" }),
    "ADMIN_PASSWORD: must be at least 12 characters long",
  );
  assert.match(
    configError({ ADMIN_EMAIL: "not-an-email", ADMIN_PASSWORD: "long enough password" }),
    /^ADMIN_EMAIL: expected an e-mail address/,
  );
  const config = loadConfig({ ADMIN_EMAIL: "Ops@Example.com", ADMIN_PASSWORD: "long enough password" });
  assert.deepEqual(config.admin, { email: "ops@example.com", password: "long enough password" });
});

Deno.test("ALERT_TO is a comma-separated list of e-mail addresses", () => {
  assert.deepEqual(loadConfig({ ALERT_TO: "a@example.com, b@example.com" }).alertTo, [
    "a@example.com",
    "b@example.com",
  ]);
  assert.equal(
    configError({ ALERT_TO: "a@example.com, nope" }),
    'ALERT_TO: expected comma-separated e-mail addresses, got "nope"',
  );
});

Deno.test("booleans, numbers and enums are checked too", () => {
  assert.equal(loadConfig({ TRUST_PROXY: "yes" }).trustProxy, true);
  assert.equal(configError({ TRUST_PROXY: "maybe" }), 'TRUST_PROXY: expected true or false, got "maybe"');
  assert.equal(loadConfig({ SESSION_IDLE_HOURS: "0.5" }).sessionIdleMs, 1_800_000);
  assert.match(configError({ SESSION_MAX_DAYS: "-1" }), /^SESSION_MAX_DAYS: expected a number between/);
  assert.equal(
    configError({ LOG_LEVEL: "loud" }),
    'LOG_LEVEL: expected one of debug, info, warn, error, got "loud"',
  );
});

Deno.test("an empty variable counts as unset", () => {
  assert.equal(loadConfig({ PORT: "", DATABASE_URL: "" }).port, 8000);
});

Deno.test("the example jobs are on unless JOBWATCH_EXAMPLES turns them off", () => {
  assert.equal(loadConfig({}).examples, true);
  assert.equal(loadConfig({ JOBWATCH_EXAMPLES: "" }).examples, true);
});

Deno.test("JOBWATCH_EXAMPLES accepts on, off, true and false in any case", () => {
  for (const value of ["on", "true", "ON", " True "]) {
    assert.equal(loadConfig({ JOBWATCH_EXAMPLES: value }).examples, true, value);
  }
  for (const value of ["off", "false", "OFF", " False "]) {
    assert.equal(loadConfig({ JOBWATCH_EXAMPLES: value }).examples, false, value);
  }
});

Deno.test("a bad JOBWATCH_EXAMPLES names the variable, the rule and the value", () => {
  assert.equal(
    configError({ JOBWATCH_EXAMPLES: "maybe" }),
    'JOBWATCH_EXAMPLES: expected on or off, got "maybe"',
  );
  assert.equal(configError({ JOBWATCH_EXAMPLES: "1" }), 'JOBWATCH_EXAMPLES: expected on or off, got "1"');
});

Deno.test("JOBWATCH_EXAMPLES is in the documented variable list", () => {
  assert.ok(CONFIG_VARIABLES.includes("JOBWATCH_EXAMPLES"));
});

Deno.test("JOB_RETENTION_DAYS keeps 90 days by default, takes 0 (forever) to 3650, and names itself when bad", () => {
  assert.equal(loadConfig({}).retentionDays, 90);
  assert.equal(loadConfig({ JOB_RETENTION_DAYS: "30" }).retentionDays, 30);
  assert.equal(loadConfig({ JOB_RETENTION_DAYS: "0" }).retentionDays, 0);
  assert.equal(
    configError({ JOB_RETENTION_DAYS: "3651" }),
    'JOB_RETENTION_DAYS: expected an integer between 0 and 3650, got "3651"',
  );
  assert.equal(
    configError({ JOB_RETENTION_DAYS: "90d" }),
    'JOB_RETENTION_DAYS: expected an integer between 0 and 3650, got "90d"',
  );
  assert.ok(CONFIG_VARIABLES.includes("JOB_RETENTION_DAYS"));
});

Deno.test("HEALTH_CACHE_SECONDS is 5 by default, 0 turns the health cache off, and a bad value names itself", () => {
  assert.equal(loadConfig({}).healthCacheSeconds, 5);
  assert.equal(loadConfig({ HEALTH_CACHE_SECONDS: "0" }).healthCacheSeconds, 0);
  assert.equal(
    configError({ HEALTH_CACHE_SECONDS: "-1" }),
    'HEALTH_CACHE_SECONDS: expected an integer between 0 and 300, got "-1"',
  );
  assert.ok(CONFIG_VARIABLES.includes("HEALTH_CACHE_SECONDS"));
});
