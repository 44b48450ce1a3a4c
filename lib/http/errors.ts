/** Typed HTTP errors; `app.onError` turns them into a JSON error or an error page. */

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Whether a request wants JSON rather than an HTML page. */
export function wantsJson(path: string, accept: string | undefined): boolean {
  if (path.startsWith("/api/") || path.startsWith("/health")) return true;
  return !!accept && accept.includes("application/json") && !accept.includes("text/html");
}
