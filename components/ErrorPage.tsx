/** A whole error page: what happened and what to do, never a stack trace. */
export function ErrorPage(
  { status, message, requestId }: { status: number; message: string; requestId?: string },
) {
  const title = status === 404
    ? "Page not found"
    : status === 503
    ? "Temporarily unavailable"
    : status >= 500
    ? "Something went wrong"
    : "Request refused";
  return (
    <body class="flex min-h-screen items-center justify-center bg-gray-50 px-4 text-gray-900 dark:bg-[#0b0f19] dark:text-gray-100">
      <main class="max-w-md text-center">
        <p class="text-sm font-semibold text-gray-500">Error {status}</p>
        <h1 class="mt-2 text-2xl font-bold">{title}</h1>
        <p class="mt-3 text-gray-600 dark:text-gray-400">{message}</p>
        {requestId && (
          <p class="mt-3 text-xs text-gray-400">
            Reference: <code class="font-mono">{requestId}</code>
          </p>
        )}
        <p class="mt-6">
          <a href="/admin/jobs" class="text-sm font-medium text-blue-600 hover:underline dark:text-blue-400">
            Back to Jobwatch
          </a>
        </p>
      </main>
    </body>
  );
}
