import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { z } from "zod";
import { safeNextPath } from "../lib/auth/middleware.ts";
import { sessionCookieName } from "../lib/auth/session.ts";
import { signIn } from "../lib/auth/signin.ts";
import type { AppEnv } from "../lib/http/context.ts";
import { HttpError } from "../lib/http/errors.ts";
import { renderPage } from "../lib/http/page.ts";
import PasswordInput from "../islands/PasswordInput.tsx";
import { hasControlCharacter } from "../lib/text.ts";

const SignInForm = z.object({
  email: z.string().trim().min(1, "Enter your e-mail address.").max(320, "That e-mail address is too long.")
    .refine(
      (email) => !hasControlCharacter(email),
      "That e-mail address contains characters it cannot have.",
    ),
  password: z.string().min(1, "Enter your password.").max(1024, "That password is too long."),
  next: z.string().max(2000).optional(),
});

export function GET(c: Context<AppEnv>) {
  const next = safeNextPath(c.req.query("next"));
  if (c.var.user) return c.redirect(next ?? "/admin/jobs", 303);
  return renderPage(c, <LoginPage next={next} />, { title: "Sign in" });
}

export async function POST(c: Context<AppEnv>) {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    throw new HttpError(
      415,
      "Send the sign-in form as application/x-www-form-urlencoded with email and password.",
    );
  }
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    throw new HttpError(400, "The sign-in form could not be read.");
  }
  const parsed = SignInForm.safeParse(body);
  const next = safeNextPath(typeof body.next === "string" ? body.next : null);
  if (!parsed.success) {
    const message = parsed.error.issues[0].message.startsWith("Invalid input")
      ? "Enter your e-mail address and password."
      : parsed.error.issues[0].message;
    return renderPage(c, <LoginPage next={next} error={message} email={String(body.email ?? "")} />, {
      title: "Sign in",
      status: 400,
    });
  }
  const result = await signIn(c.var.deps, {
    email: parsed.data.email,
    password: parsed.data.password,
    ip: c.var.clientIp,
    userAgent: c.req.header("user-agent") ?? null,
  });
  if (result.kind === "limited") {
    c.header("Retry-After", String(result.retryAfterSeconds));
    const minutes = Math.ceil(result.retryAfterSeconds / 60);
    const message = result.scope === "account"
      ? `Too many failed sign-ins for this account. Wait ${minutes} minutes and try again.`
      : `Too many failed sign-ins from your network. Wait ${minutes} minutes and try again.`;
    return renderPage(c, <LoginPage next={next} error={message} email={parsed.data.email} />, {
      title: "Sign in",
      status: 429,
    });
  }
  if (result.kind === "invalid") {
    return renderPage(
      c,
      <LoginPage next={next} error="Wrong e-mail or password." email={parsed.data.email} />,
      { title: "Sign in", status: 401 },
    );
  }
  const { config } = c.var.deps;
  setCookie(c, sessionCookieName(config.secureCookies), result.sessionId, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: config.secureCookies,
    maxAge: Math.floor(config.sessionMaxMs / 1000),
  });
  return c.redirect(next ?? "/admin/jobs", 303);
}

function LoginPage({ next, error, email }: { next: string | null; error?: string; email?: string }) {
  return (
    <body class="flex min-h-screen items-center justify-center bg-gray-50 px-4 text-gray-900 dark:bg-[#0b0f19] dark:text-gray-100">
      <main class="w-full max-w-sm">
        <div class="mb-6 flex items-center justify-center gap-2 text-xl font-semibold">
          <img src="/static/favicon.svg" alt="" width={28} height={28} />
          Jobwatch
        </div>
        <form
          method="post"
          action="/login"
          class="space-y-4 rounded-xl border border-gray-200 bg-white p-6 shadow-sm dark:border-gray-800 dark:bg-gray-900"
        >
          <h1 class="text-lg font-semibold">Sign in</h1>
          {error && (
            <p
              role="alert"
              class="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700 dark:border-red-900 dark:bg-red-950 dark:text-red-300"
            >
              {error}
            </p>
          )}
          {next && <input type="hidden" name="next" value={next} />}
          <div class="space-y-1">
            <label for="email" class="block text-sm font-medium">E-mail</label>
            <input
              id="email"
              name="email"
              type="email"
              autocomplete="username"
              required
              value={email}
              class="w-full rounded-lg border border-gray-300 bg-white px-3 py-2 text-sm focus:border-blue-500 focus:outline-none focus:ring-2 focus:ring-blue-200 dark:border-gray-600 dark:bg-gray-800"
            />
          </div>
          <div class="space-y-1">
            <label for="password" class="block text-sm font-medium">Password</label>
            <PasswordInput id="password" name="password" autocomplete="current-password" />
          </div>
          <button
            type="submit"
            class="w-full rounded-lg bg-gray-900 px-3 py-2 text-sm font-medium text-white hover:bg-gray-700 dark:bg-white dark:text-gray-900 dark:hover:bg-gray-200"
          >
            Sign in
          </button>
        </form>
      </main>
    </body>
  );
}
