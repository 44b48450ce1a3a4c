/**
 * Same-origin JSON requests from islands. Client-safe: no server imports.
 * A failure comes back as the server's own `{ error }` message, or as one
 * that says what to do when there is none.
 */

export type ApiResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; message: string };

const UNREACHABLE = "Could not reach Jobwatch. Check your connection and try again.";

/** GETs or POSTs JSON; never throws (an aborted request comes back as status 0). */
export async function requestJson<T>(
  url: string,
  init: { method?: "GET" | "POST"; body?: unknown; signal?: AbortSignal } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      signal: init.signal,
    });
  } catch {
    return { ok: false, status: 0, message: UNREACHABLE };
  }
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status below.
  }
  if (response.ok) return { ok: true, data: payload as T };
  const error = (payload as { error?: unknown } | null)?.error;
  return {
    ok: false,
    status: response.status,
    message: typeof error === "string" && error !== ""
      ? error
      : `Jobwatch answered with HTTP ${response.status}. Reload the page and try again.`,
  };
}
