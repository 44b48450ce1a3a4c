/**
 * The app under test as a child process: started on a free loopback port,
 * watched for its resident memory, signed in to as the bench admin, and
 * stopped with SIGTERM (its normal shutdown).
 */

export const BENCH_ADMIN = { email: "bench@jobwatch.test", password: "bench-password-1234" };

const ROOT = new URL("../", import.meta.url);

export interface AppOptions {
  /** DATABASE_URL, or null for the embedded database in `pgliteDir`. */
  databaseUrl: string | null;
  pgliteDir?: string;
  env?: Record<string, string>;
  /** The server to run (default bench/server.ts, Jobwatch); it must print "… is running at …" once it listens. */
  script?: string;
}

/**
 * The V8 flags `deno task start` runs the app with (its heap sizes), read
 * from deno.json so the bench measures the app as it is deployed.
 */
export function startTaskV8Flags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  return String(config.tasks.start).split(/\s+/).filter((arg) => arg.startsWith("--v8-flags="));
}

function appFlags(): string[] {
  return (Deno.env.get("BENCH_APP_FLAGS") ?? "").split(/\s+/).filter((flag) => flag !== "");
}

/** A port nothing listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resident memory of a process in bytes (Linux), or null once it has exited. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export class AppProcess {
  readonly url: string;
  readonly #child: Deno.ChildProcess;
  readonly #output: string[] = [];
  #peakBytes = 0;
  #sampler: ReturnType<typeof setInterval> | undefined;
  cookie = "";

  private constructor(child: Deno.ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
  }

  /** Starts the app and resolves once it listens (or rejects with its output). */
  static async start(options: AppOptions): Promise<AppProcess> {
    const port = freePort();
    const env: Record<string, string> = {
      HOST: "127.0.0.1",
      PORT: String(port),
      ADMIN_EMAIL: BENCH_ADMIN.email,
      ADMIN_PASSWORD: BENCH_ADMIN.password,
      JOBWATCH_EXAMPLES: "false",
      LOG_LEVEL: "warn",
      NO_COLOR: "1",
      ...options.env,
    };
    if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
    else env.PGLITE_DIR = options.pgliteDir!;
    const command = new Deno.Command(Deno.execPath(), {
      // BENCH_APP_FLAGS: extra flags for the app's `deno run`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
      // to profile the app under the bench's load (each start writes its profile when it stops).
      args: [
        "run",
        "-A",
        "--unstable-cron",
        ...startTaskV8Flags(),
        ...appFlags(),
        options.script ?? "bench/server.ts",
      ],
      cwd: ROOT,
      env,
      clearEnv: false,
      stdout: "piped",
      stderr: "piped",
    });
    const child = command.spawn();
    const app = new AppProcess(child, `http://127.0.0.1:${port}`);
    app.#collect(child.stdout);
    app.#collect(child.stderr);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const exited = await Promise.race([child.status.then(() => true), delay(100).then(() => false)]);
      if (exited) throw new Error(`the app exited during start-up:\n${app.output()}`);
      if (app.#output.some((line) => line.includes(" is running at "))) {
        app.#sampler = setInterval(() => app.#sample(), 100);
        await app.#sample();
        return app;
      }
    }
    child.kill("SIGKILL");
    throw new Error(`the app did not start within 120 s:\n${app.output()}`);
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** What the app printed, for error messages. */
  output(): string {
    return this.#output.join("\n").slice(-4000);
  }

  /** The highest resident memory seen since the last reset. */
  takePeakBytes(): number {
    const peak = this.#peakBytes;
    this.#peakBytes = 0;
    return peak;
  }

  async #sample(): Promise<void> {
    const bytes = await residentBytes(this.#child.pid);
    if (bytes !== null && bytes > this.#peakBytes) this.#peakBytes = bytes;
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let carry = "";
    for await (const chunk of stream) {
      const lines = (carry + decoder.decode(chunk, { stream: true })).split("\n");
      carry = lines.pop()!;
      this.#output.push(...lines);
      if (this.#output.length > 500) this.#output.splice(0, this.#output.length - 500);
    }
  }

  /** Signs in as the bench admin and keeps the session cookie for `headers()`. */
  async signIn(): Promise<void> {
    const response = await fetch(`${this.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.url },
      body: new URLSearchParams(BENCH_ADMIN),
      redirect: "manual",
    });
    await response.body?.cancel();
    const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
    if (response.status !== 303 || cookies.length === 0) {
      throw new Error(`signing in failed: HTTP ${response.status}\n${this.output()}`);
    }
    this.cookie = cookies.join("; ");
  }

  /** Headers of a signed-in admin's same-origin request. */
  headers(): Record<string, string> {
    return { cookie: this.cookie, origin: this.url };
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 30 s). */
  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    try {
      this.#child.kill("SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 30_000);
    await this.#child.status;
    clearTimeout(timer);
  }
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
