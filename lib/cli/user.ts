/**
 * `deno task user`: add, re-password, remove and list accounts from the
 * shell. The command logic (`runUserCommand`) takes its database and I/O as
 * arguments so tests run it in-process; the `import.meta.main` block opens
 * the configured database around it.
 */
import { hashPassword, passwordProblem, type ScryptCost } from "../auth/password.ts";
import { generatePassword } from "../bootstrap.ts";
import type { Sql } from "../db/mod.ts";
import { parseArguments, UsageError, usageFailure } from "./args.ts";
import { runCli } from "./database.ts";
import { recordAuditEvent } from "../queries/audit.ts";
import { deleteUserSessions } from "../queries/sessions.ts";
import {
  countAdmins,
  deleteUser,
  getUserByEmail,
  insertUser,
  isEmailAddress,
  listUsers,
  type Role,
  setPasswordHash,
  type User,
} from "../queries/users.ts";
import { PasswordInputError, readPasswordFromStdin } from "./prompt.ts";

export { PasswordInputError };

export const USAGE = `Usage: deno task user <command> [options]

Commands:
  add <email> [--name NAME] [--role admin|viewer] [--generate]
                   create a user (default role admin, default name the part before @)
  passwd <email> [--generate]
                   set a new password and sign the user out everywhere
  remove <email>   delete a user; the last admin cannot be removed
  list             show every user: e-mail, role, name, created date

The password is asked for twice on a terminal, or read from the first line of
standard input:  echo 'a long passphrase' | deno task user add ada@example.com
--generate makes a random password instead and prints it once.

The database is DATABASE_URL, or else the embedded one in PGLITE_DIR
(default ./data/pglite), which the server must not hold at the same time.`;

export type UserCommand =
  | { kind: "add"; email: string; name: string; role: Role; generate: boolean }
  | { kind: "passwd"; email: string; generate: boolean }
  | { kind: "remove"; email: string }
  | { kind: "list" }
  | { kind: "help" };

/** Bad arguments; the message says which, and the usage text follows it. */
export { UsageError };

export interface UserCommandIo {
  sql: Sql;
  /** Reads the new password for `email`; may throw `PasswordInputError`. */
  readPassword: (email: string) => Promise<string>;
  print: (line: string) => void;
  /** Where failures go; defaults to `print`. */
  printError?: (line: string) => void;
  /** scrypt cost; lowered only by tests. */
  hashCost?: ScryptCost;
  /** ADMIN_EMAIL, whose password the server resets at every start. */
  configuredAdminEmail?: string | null;
}

/** Parses the arguments, or throws `UsageError`. */
export function parseUserCommand(args: string[]): UserCommand {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case "add": {
      const { email, options } = parseRest(rest, ["name", "role"], true);
      const role = options.get("role") ?? "admin";
      if (role !== "admin" && role !== "viewer") {
        throw new UsageError(`--role must be admin or viewer, got ${JSON.stringify(role)}`);
      }
      const name = (options.get("name") ?? email.slice(0, email.indexOf("@"))).trim();
      if (name === "") throw new UsageError("--name must not be empty");
      return { kind: "add", email, name, role, generate: options.has("generate") };
    }
    case "passwd": {
      const { email, options } = parseRest(rest, [], true);
      return { kind: "passwd", email, generate: options.has("generate") };
    }
    case "remove":
      return { kind: "remove", email: parseRest(rest, [], false).email };
    case "list":
      if (rest.length > 0) throw new UsageError(`list takes no arguments, got ${JSON.stringify(rest[0])}`);
      return { kind: "list" };
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { kind: "help" };
    default:
      throw new UsageError(`unknown command ${JSON.stringify(subcommand)}`);
  }
}

/** One `<email>` plus `--flag value`, `--flag=value` and (if allowed) `--generate`. */
function parseRest(args: string[], valueFlags: string[], allowGenerate: boolean) {
  const { positional, options } = parseArguments(args, {
    what: "an e-mail address",
    valueFlags,
    booleanFlags: allowGenerate ? ["generate"] : [],
  });
  const email = positional.toLowerCase();
  if (!isEmailAddress(email)) {
    throw new UsageError(`expected an e-mail address such as ada@example.com, got ${JSON.stringify(email)}`);
  }
  return { email, options };
}

/** Parses and runs one command; returns the exit code (0, 1, 2 for usage, 130 cancelled). */
export async function runUserCommand(args: string[], io: UserCommandIo): Promise<number> {
  let command: UserCommand;
  try {
    command = parseUserCommand(args);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error, USAGE, io.printError ?? io.print);
    throw error;
  }
  return await executeUserCommand(command, io);
}

/** Runs a parsed command against `io.sql`; returns the exit code. */
export async function executeUserCommand(command: UserCommand, io: UserCommandIo): Promise<number> {
  const { sql, print } = io;
  const fail = (message: string) => {
    (io.printError ?? print)(message);
    return 1;
  };
  const audit = (action: string, email: string, metadata: Record<string, unknown>) =>
    recordAuditEvent(sql, { action, actorEmail: "cli", targetType: "user", targetId: email, metadata });

  switch (command.kind) {
    case "help":
      print(USAGE);
      return 0;

    case "list": {
      const users = await listUsers(sql);
      if (users.length === 0) {
        print("No users yet. Add one with: deno task user add <email>");
        return 0;
      }
      const width = (pick: (user: User) => string) => Math.max(...users.map((user) => pick(user).length));
      const emailWidth = width((user) => user.email);
      const nameWidth = width((user) => user.name);
      for (const user of users) {
        const created = user.createdAt.toISOString().slice(0, 10);
        print(
          `${user.email.padEnd(emailWidth)}  ${user.role.padEnd(6)}  ${
            user.name.padEnd(nameWidth)
          }  ${created}`,
        );
      }
      return 0;
    }

    case "add": {
      const { email, name, role } = command;
      const taken = `${email} already exists; to set a new password, run: deno task user passwd ${email}`;
      if (await getUserByEmail(sql, email)) return fail(taken);
      const password = await newPassword(command, io);
      if (typeof password === "number") return password;
      const passwordHash = await hashPassword(password.value, io.hashCost);
      // Insert-only: a user created meanwhile (the prompt can take a while) is not overwritten.
      const user = await insertUser(sql, { email, name, role, passwordHash });
      if (!user) return fail(taken);
      await audit("user.created", email, { role, name });
      print(`Created ${role} ${email} (${name}).`);
      if (command.generate) print(`Password, shown once: ${password.value}`);
      return 0;
    }

    case "passwd": {
      const { email } = command;
      const user = await getUserByEmail(sql, email);
      if (!user) return fail(`There is no user ${email}; see them with: deno task user list`);
      const password = await newPassword(command, io);
      if (typeof password === "number") return password;
      if (!await setPasswordHash(sql, email, await hashPassword(password.value, io.hashCost))) {
        return fail(`${email} was removed meanwhile; nothing was changed.`);
      }
      const revoked = await deleteUserSessions(sql, user.id);
      await audit("user.password_changed", email, { sessionsRevoked: revoked, generated: command.generate });
      print(`Changed the password of ${email} and revoked ${plural(revoked, "session")}.`);
      if (command.generate) print(`Password, shown once: ${password.value}`);
      if (io.configuredAdminEmail === email) {
        print(
          `Note: ADMIN_EMAIL is ${email}, so the server resets this password to ADMIN_PASSWORD when it starts.`,
        );
      }
      return 0;
    }

    case "remove": {
      const { email } = command;
      const user = await getUserByEmail(sql, email);
      if (!user) return fail(`There is no user ${email}; see them with: deno task user list`);
      if (user.role === "admin" && await countAdmins(sql) <= 1) {
        return fail(
          `${email} is the last admin and cannot be removed; add another admin first (deno task user add <email>).`,
        );
      }
      const revoked = await deleteUserSessions(sql, user.id);
      await deleteUser(sql, email);
      await audit("user.removed", email, { role: user.role, sessionsRevoked: revoked });
      print(`Removed ${user.role} ${email} and revoked ${plural(revoked, "session")}.`);
      if (io.configuredAdminEmail === email) {
        print(`Note: ADMIN_EMAIL is ${email}, so the server creates this admin again when it starts.`);
      }
      return 0;
    }
  }
}

/** The generated or entered password, or an exit code after saying what was wrong. */
async function newPassword(
  command: { email: string; generate: boolean },
  io: UserCommandIo,
): Promise<{ value: string } | number> {
  if (command.generate) return { value: generatePassword() };
  const printError = io.printError ?? io.print;
  let value: string;
  try {
    value = await io.readPassword(command.email);
  } catch (error) {
    if (!(error instanceof PasswordInputError)) throw error;
    printError(error.message);
    return error.exitCode;
  }
  if (value === "") {
    printError(
      "No password given: type one at the prompt, pipe one on standard input, or use --generate. Nothing was changed.",
    );
    return 1;
  }
  const problem = passwordProblem(value);
  if (problem) {
    printError(`${problem} Nothing was changed.`);
    return 1;
  }
  return { value };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

// ---------------------------------------------------------------------------
// The command line: configuration, database, exit code.

async function main(args: string[]): Promise<number> {
  return await runCli(args, {
    usage: USAGE,
    parse: parseUserCommand,
    syncJobs: false,
    execute: (command, { db, config, print, printError }) =>
      executeUserCommand(command, {
        sql: db.sql,
        readPassword: readPasswordFromStdin,
        print,
        printError,
        configuredAdminEmail: config.admin?.email ?? null,
      }),
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
