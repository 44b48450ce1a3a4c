/**
 * An external job's run tokens from its page: create one (shown once, in
 * the page that answers the form) and revoke one. Admins only, audited.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../lib/http/context.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { readForm } from "../../lib/http/form.ts";
import { requireAdmin as requireAdminRole } from "../../lib/auth/middleware.ts";
import { issueJobToken, listJobTokens, MAX_LABEL_CHARS, withdrawJobToken } from "../../lib/jobs/tokens.ts";
import type { SessionUser } from "../../lib/queries/sessions.ts";
import { hasControlCharacter } from "../../lib/text.ts";
import { renderJobPage, requireJob } from "./job.tsx";

function requireAdmin(c: Context<AppEnv>): SessionUser {
  const user = c.var.user!;
  requireAdminRole(user);
  return user;
}

const TokenForm = z.object({
  label: z.string().trim().max(MAX_LABEL_CHARS, `A label has at most ${MAX_LABEL_CHARS} characters.`)
    .refine((label) => !hasControlCharacter(label), "A label cannot contain control characters."),
});

/** POST /admin/jobs/:jobId/tokens (label): creates a run token and shows it once. */
export async function createToken(c: Context<AppEnv>) {
  const user = requireAdmin(c);
  const definition = await requireJob(c);
  if (!definition.external) {
    throw new HttpError(
      400,
      `${definition.displayName} runs inside Jobwatch; only external jobs use tokens.`,
    );
  }
  const parsed = TokenForm.safeParse({ label: (await readForm(c)).label ?? "" });
  if (!parsed.success) throw new HttpError(400, parsed.error.issues[0].message);
  const created = await issueJobToken(c.var.deps.sql, definition.id, {
    label: parsed.data.label,
    actor: { id: user.id, email: user.email, ip: c.var.clientIp },
    now: c.var.deps.now(),
  });
  return await renderJobPage(c, definition, created, 201);
}

/** POST /admin/jobs/:jobId/tokens/:tokenId/revoke: revokes a token at once. */
export async function revokeToken(c: Context<AppEnv>) {
  const user = requireAdmin(c);
  const definition = await requireJob(c);
  const tokenId = c.req.param("tokenId")!;
  const tokens = await listJobTokens(c.var.deps.sql, definition.id);
  const token = tokens.find((t) => t.id === tokenId);
  if (!token) throw new HttpError(404, `${definition.displayName} has no token "${tokenId.slice(0, 100)}".`);
  if (!token.revokedAt) {
    await withdrawJobToken(c.var.deps.sql, tokenId, {
      actor: { id: user.id, email: user.email, ip: c.var.clientIp },
      now: c.var.deps.now(),
    });
  }
  return c.redirect(`/admin/jobs/${encodeURIComponent(definition.id)}#tokens`, 303);
}
