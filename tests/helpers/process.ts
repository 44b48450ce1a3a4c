/**
 * Child processes in tests, bounded in time: a child that goes quiet or
 * hangs in its shutdown fails the test or is killed; it never hangs the run.
 */

/** The next chunk from `reader`, or "timeout" once `deadline` (epoch ms) has passed. */
export async function readBefore<T>(
  reader: ReadableStreamDefaultReader<T>,
  deadline: number,
): Promise<ReadableStreamReadResult<T> | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads text until `pattern` matches, the stream ends, or `ms` pass; returns what it read. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  ms: number,
): Promise<string> {
  let output = "";
  const deadline = Date.now() + ms;
  while (!pattern.test(output)) {
    const next = await readBefore(reader, deadline);
    if (next === "timeout" || next.done) break;
    output += next.value;
  }
  return output;
}

/** The child's exit status, killing it with SIGKILL if it has not exited within `ms`. */
export async function exitWithin(child: Deno.ChildProcess, ms = 15_000): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  const status = await Promise.race([child.status, late]);
  clearTimeout(timer);
  if (status) return status;
  child.kill("SIGKILL");
  return await child.status;
}
