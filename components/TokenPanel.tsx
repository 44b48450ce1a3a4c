/**
 * An external job's run tokens on its page: the live and revoked tokens,
 * a form to create one (shown once, with a curl example) and a revoke
 * button per live token. Plain forms: they work without JavaScript.
 */
import { formatExactUtc, formatRelative } from "../lib/format.ts";
import { curlExample, type JobToken } from "../lib/jobs/tokens.ts";

export interface TokenPanelProps {
  jobId: string;
  tokens: JobToken[];
  /** A token just created, shown this once. */
  newToken: { token: string; label: string } | null;
  isAdmin: boolean;
  appUrl: string;
  now: Date;
}

const BUTTON =
  "rounded-lg border border-gray-300 px-3 py-1.5 text-sm font-medium hover:bg-gray-100 dark:border-gray-700 dark:hover:bg-gray-800";

export function TokenPanel({ jobId, tokens, newToken, isAdmin, appUrl, now }: TokenPanelProps) {
  const base = `/admin/jobs/${encodeURIComponent(jobId)}/tokens`;
  return (
    <section
      id="tokens"
      aria-labelledby="tokens-heading"
      class="rounded-xl border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900"
    >
      <h2 id="tokens-heading" class="font-semibold">Run tokens</h2>
      <p class="mt-1 text-sm text-gray-500 dark:text-gray-400">
        This job runs elsewhere and reports each run with a bearer token. Only a hash of each token is kept.
      </p>

      {newToken && (
        <div
          class="mt-3 rounded-lg border border-green-300 bg-green-50 p-3 text-sm dark:border-green-800 dark:bg-green-950"
          role="status"
          data-testid="new-token"
        >
          <p class="font-medium">
            Token created{newToken.label ? ` (${newToken.label})` : ""}. Copy it now: it is not shown again.
          </p>
          <pre class="mt-2 overflow-x-auto rounded bg-white p-2 font-mono text-xs dark:bg-gray-900">{newToken.token}</pre>
          <p class="mt-2">Report a finished run with:</p>
          <pre class="mt-1 overflow-x-auto rounded bg-white p-2 font-mono text-xs dark:bg-gray-900">{
            curlExample(appUrl.replace(/\/$/, ""), jobId, newToken.token).map((line) => line.slice(2)).join("\n")
          }</pre>
        </div>
      )}

      {tokens.length === 0 ? <p class="mt-3 text-sm">No tokens yet.</p> : (
        <div class="mt-3 overflow-x-auto">
          <table class="w-full text-left text-sm">
            <thead class="text-xs text-gray-500">
              <tr>
                <th class="py-1 pr-3 font-medium">Label</th>
                <th class="py-1 pr-3 font-medium">Created</th>
                <th class="py-1 pr-3 font-medium">Last used</th>
                <th class="py-1 pr-3 font-medium">State</th>
                {isAdmin && (
                  <th class="py-1 font-medium">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody class="divide-y divide-gray-100 dark:divide-gray-800">
              {tokens.map((token) => (
                <tr data-token-id={token.id}>
                  <td class="py-2 pr-3">{token.label || <span class="text-gray-400">(no label)</span>}</td>
                  <td class="py-2 pr-3" title={formatExactUtc(token.createdAt)}>
                    {formatRelative(token.createdAt, now)}
                    {token.createdBy && <span class="text-gray-500">by {token.createdBy}</span>}
                  </td>
                  <td class="py-2 pr-3">
                    {token.lastUsedAt ? formatRelative(token.lastUsedAt, now) : "Never"}
                  </td>
                  <td class="py-2 pr-3">
                    {token.revokedAt ? `Revoked ${formatRelative(token.revokedAt, now)}` : "Live"}
                  </td>
                  {isAdmin && (
                    <td class="py-2 text-right">
                      {!token.revokedAt && (
                        <form method="post" action={`${base}/${token.id}/revoke`}>
                          <button type="submit" class={`${BUTTON} text-red-700 dark:text-red-300`}>
                            Revoke
                          </button>
                        </form>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {isAdmin && (
        <form method="post" action={base} class="mt-4 flex flex-wrap items-end gap-2">
          <label class="block text-xs font-medium text-gray-600 dark:text-gray-300">
            Label (where the token is used)
            <input
              name="label"
              maxLength={200}
              placeholder="e.g. lambda production"
              class="mt-1 block w-64 max-w-full rounded-lg border border-gray-300 bg-white px-2 py-1.5 text-sm dark:border-gray-700 dark:bg-gray-800"
            />
          </label>
          <button type="submit" class={BUTTON}>Create token</button>
        </form>
      )}
    </section>
  );
}
