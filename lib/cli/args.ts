/** Argument parsing shared by the CLI commands: one positional argument plus options. */

/** Bad arguments; the command prints the message and its usage, and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses exactly one positional argument (named `what` in errors) plus
 * `--flag value` / `--flag=value` for `valueFlags` and bare `--flag` for
 * `booleanFlags` (set to "").
 */
export function parseArguments(
  args: string[],
  spec: { what: string; valueFlags?: string[]; booleanFlags?: string[] },
): { positional: string; options: Map<string, string> } {
  const options = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (spec.booleanFlags?.includes(flag) && inline === undefined) {
      options.set(flag, "");
    } else if (spec.valueFlags?.includes(flag)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${flag} needs a value`);
      options.set(flag, value);
    } else {
      throw new UsageError(`unknown option ${arg.split("=")[0]}`);
    }
  }
  if (positionals.length === 0) throw new UsageError(`${spec.what} is required`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  return { positional: positionals[0].trim(), options };
}

/** Prints a usage error and the usage text; returns exit code 2. */
export function usageFailure(error: UsageError, usage: string, printError: (line: string) => void): number {
  printError(`Jobwatch: ${error.message}`);
  printError("");
  printError(usage);
  return 2;
}
