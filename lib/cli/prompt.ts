/** Password input for the CLI: from the real terminal without echo, or from stdin. */
import { passwordProblem } from "../auth/password.ts";

/** A password could not be read (mismatch, cancelled); nothing was changed. */
export class PasswordInputError extends Error {
  override name = "PasswordInputError";
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** On a terminal: asks twice without echo. Otherwise: the first line of stdin. */
export async function readPasswordFromStdin(email: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) return await readFirstLine();
  const first = await promptHidden(`New password for ${email}: `);
  // Checked before asking again, so a too-short password is not typed twice.
  const problem = passwordProblem(first);
  if (problem) throw new PasswordInputError(`${problem} Nothing was changed.`);
  const second = await promptHidden("Repeat the password: ");
  if (first !== second) throw new PasswordInputError("The two passwords differ; nothing was changed.");
  return first;
}

async function readFirstLine(): Promise<string> {
  const bytes: number[] = [];
  const buffer = new Uint8Array(1024);
  // passwordProblem refuses anything past 1024 characters; stop reading well after that.
  while (bytes.length < 16 * 1024) {
    const count = await Deno.stdin.read(buffer);
    if (count === null) break;
    const chunk = buffer.subarray(0, count);
    const newline = chunk.indexOf(0x0a);
    bytes.push(...(newline === -1 ? chunk : chunk.subarray(0, newline)));
    if (newline !== -1) break;
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}

/** Reads one line in raw mode, echoing nothing; Enter ends it, Ctrl-C cancels. */
async function promptHidden(prompt: string): Promise<string> {
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(prompt));
  const decoder = new TextDecoder();
  const characters: string[] = [];
  const buffer = new Uint8Array(256);
  Deno.stdin.setRaw(true);
  try {
    while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) return characters.join("");
      for (const byte of buffer.subarray(0, count)) {
        if (byte === 0x0d || byte === 0x0a) return characters.join("");
        if (byte === 0x03 || (byte === 0x04 && characters.length === 0)) {
          throw new PasswordInputError("Cancelled; nothing was changed.", 130);
        }
        if (byte === 0x7f || byte === 0x08) characters.pop();
        else if (byte === 0x15) characters.length = 0; // Ctrl-U clears the line
        else if (byte === 0x1b) break; // an escape sequence (arrow keys): drop the rest of it
        else if (byte >= 0x20) characters.push(...decoder.decode(Uint8Array.of(byte), { stream: true }));
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
}
