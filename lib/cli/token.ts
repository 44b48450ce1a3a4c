/**
 * `deno task token`: create, list and revoke the bearer tokens with which
 * external jobs report their runs. The command logic (`runTokenCommand`)
 * takes its database and output as arguments so tests run it in-process;
 * the `import.meta.main` block opens the configured database, migrates it
 * and syncs the declared jobs first, so it works on a fresh database.
 */
import type { Sql } from "../db/mod.ts";
import { parseArguments, UsageError, usageFailure } from "./args.ts";
import { runCli } from "./database.ts";
import { isUuid } from "../ids.ts";
import {
  curlExample,
  getJobToken,
  issueJobToken,
  type JobToken,
  listJobTokens,
  MAX_LABEL_CHARS,
  type TokenActor,
  UnknownJobError,
  withdrawJobToken,
} from "../jobs/tokens.ts";
import { getJobDefinition } from "../queries/jobs.ts";

export const USAGE = `Usage: deno task token <command> [options]

Commands:
  create <job-id> [--label TEXT]
                   create a token with which that job reports its runs; it is
                   printed once, with a curl example, and only its hash is kept
  list <job-id>    show the job's tokens: id, label, created, last used, revoked
                   (tokens themselves are never shown again)
  revoke <token-id>
                   revoke a token at once (the id is the first column of list)

The database is DATABASE_URL, or else the embedded one in PGLITE_DIR
(default ./data/pglite), which the server must not hold at the same time.`;

const CLI_ACTOR: TokenActor = { id: null, email: "cli" };

export type TokenCommand =
  | { kind: "create"; jobId: string; label: string }
  | { kind: "list"; jobId: string }
  | { kind: "revoke"; tokenId: string }
  | { kind: "help" };

/** Bad arguments; the message says which, and the usage text follows it. */
export { UsageError };

export interface TokenCommandIo {
  sql: Sql;
  print: (line: string) => void;
  /** Where failures go; defaults to `print`. */
  printError?: (line: string) => void;
  /** Jobwatch's public address, for the curl example. */
  appUrl: string;
  now?: () => Date;
}

/** Parses the arguments, or throws `UsageError`. */
export function parseTokenCommand(args: string[]): TokenCommand {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case "create": {
      const { positional, options } = parseArguments(rest, { what: "a job id", valueFlags: ["label"] });
      const label = (options.get("label") ?? "").trim();
      if (label.length > MAX_LABEL_CHARS) {
        throw new UsageError(`--label must be at most ${MAX_LABEL_CHARS} characters`);
      }
      return { kind: "create", jobId: positional, label };
    }
    case "list":
      return { kind: "list", jobId: parseArguments(rest, { what: "a job id", valueFlags: [] }).positional };
    case "revoke": {
      const tokenId = parseArguments(rest, { what: "a token id", valueFlags: [] }).positional;
      if (!isUuid(tokenId)) {
        throw new UsageError(
          `expected a token id such as 0b7e6c1a-5d2f-4c3e-9a8b-1f2e3d4c5b6a (see deno task token list <job-id>), got ${
            JSON.stringify(tokenId)
          }`,
        );
      }
      return { kind: "revoke", tokenId: tokenId.toLowerCase() };
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { kind: "help" };
    default:
      throw new UsageError(`unknown command ${JSON.stringify(subcommand)}`);
  }
}

/** Parses and runs one command; returns the exit code (0, 1, or 2 for usage). */
export async function runTokenCommand(args: string[], io: TokenCommandIo): Promise<number> {
  let command: TokenCommand;
  try {
    command = parseTokenCommand(args);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error, USAGE, io.printError ?? io.print);
    throw error;
  }
  return await executeTokenCommand(command, io);
}

/** Runs a parsed command against `io.sql`; returns the exit code. */
export async function executeTokenCommand(command: TokenCommand, io: TokenCommandIo): Promise<number> {
  const { sql, print } = io;
  const now = io.now ?? (() => new Date());
  const fail = (message: string) => {
    (io.printError ?? print)(message);
    return 1;
  };

  switch (command.kind) {
    case "help":
      print(USAGE);
      return 0;

    case "create": {
      const { jobId, label } = command;
      let created: Awaited<ReturnType<typeof issueJobToken>>;
      try {
        created = await issueJobToken(sql, jobId, { label, actor: CLI_ACTOR, now: now() });
      } catch (error) {
        if (error instanceof UnknownJobError) return fail(error.message);
        throw error;
      }
      const { token, record } = created;
      print(`Created token ${record.id} for ${jobId}${label ? ` (${label})` : ""}.`);
      print(`Token, shown once: ${token}`);
      print("");
      print("Report a finished run with:");
      for (const line of curlExample(io.appUrl, jobId, token)) print(line);
      print("");
      print(`Revoke it with: deno task token revoke ${record.id}`);
      return 0;
    }

    case "list": {
      const { jobId } = command;
      if (!await getJobDefinition(sql, jobId)) return fail(unknownJob(jobId));
      const tokens = await listJobTokens(sql, jobId);
      if (tokens.length === 0) {
        print(`${jobId} has no tokens yet. Create one with: deno task token create ${jobId}`);
        return 0;
      }
      const labelWidth = Math.max(5, ...tokens.map((token) => token.label.length));
      print(
        `${"ID".padEnd(36)}  ${"LABEL".padEnd(labelWidth)}  ${"CREATED (UTC)".padEnd(16)}  ${
          "LAST USED (UTC)".padEnd(16)
        }  REVOKED (UTC)`,
      );
      for (const token of tokens) print(tokenLine(token, labelWidth));
      return 0;
    }

    case "revoke": {
      const { tokenId } = command;
      const revoked = await withdrawJobToken(sql, tokenId, { actor: CLI_ACTOR, now: now() });
      if (revoked) {
        print(`Revoked token ${tokenId} of ${revoked.jobId}${revoked.label ? ` (${revoked.label})` : ""}.`);
        return 0;
      }
      const existing = await getJobToken(sql, tokenId);
      if (!existing) {
        return fail(`There is no token ${tokenId}; see a job's tokens with: deno task token list <job-id>`);
      }
      print(`Token ${tokenId} of ${existing.jobId} was already revoked at ${stamp(existing.revokedAt)}.`);
      return 0;
    }
  }
}

function unknownJob(jobId: string): string {
  return `There is no job ${
    JSON.stringify(jobId.slice(0, 100))
  }. Jobs are declared in code (lib/jobs/mod.ts); ` +
    "their ids are listed on /admin/jobs.";
}

/** A ready-to-paste one-shot report; the single quotes survive any token (base64url has none). */
function stamp(date: Date | null): string {
  return date ? date.toISOString().slice(0, 16).replace("T", " ") : "-";
}

function tokenLine(token: JobToken, labelWidth: number): string {
  return `${token.id}  ${token.label.padEnd(labelWidth)}  ${stamp(token.createdAt).padEnd(16)}  ${
    stamp(token.lastUsedAt).padEnd(16)
  }  ${stamp(token.revokedAt)}`;
}

// ---------------------------------------------------------------------------
// The command line: configuration, database, job registry, exit code.

async function main(args: string[]): Promise<number> {
  return await runCli(args, {
    usage: USAGE,
    parse: parseTokenCommand,
    syncJobs: true,
    execute: (command, { db, config, print, printError }) =>
      executeTokenCommand(command, { sql: db.sql, print, printError, appUrl: config.appUrl }),
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
