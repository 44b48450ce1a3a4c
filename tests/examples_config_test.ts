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
