import type { ComponentChildren } from "preact";
import type { SessionUser } from "../lib/queries/sessions.ts";

export interface LayoutProps {
  user: SessionUser;
  /** The current section, to highlight it in the navigation. */
  section: "jobs" | "alerts" | "audit";
  children: ComponentChildren;
}

const NAV = [
  { id: "jobs", label: "Jobs", href: "/admin/jobs" },
  { id: "alerts", label: "Alerts", href: "/admin/alerts" },
  { id: "audit", label: "Audit log", href: "/admin/audit" },
] as const;

/** The signed-in frame: top bar with navigation and the user menu. */
export function Layout({ user, section, children }: LayoutProps) {
  return (
    <body class="min-h-screen bg-gray-50 text-gray-900 antialiased dark:bg-[#0b0f19] dark:text-gray-100">
      <header class="border-b border-gray-200 bg-white dark:border-gray-800 dark:bg-gray-900">
        <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <a href="/admin/jobs" class="flex items-center gap-2 font-semibold">
            <img src="/static/favicon.svg" alt="" width={20} height={20} />
            Jobwatch
          </a>
          <nav aria-label="Main" class="flex gap-1 text-sm">
            {NAV.map((item) => (
              <a
                href={item.href}
                aria-current={item.id === section ? "page" : undefined}
                class={`rounded-md px-3 py-1.5 ${
                  item.id === section
                    ? "bg-gray-100 font-medium dark:bg-gray-800"
                    : "text-gray-600 hover:bg-gray-100 dark:text-gray-400 dark:hover:bg-gray-800"
                }`}
              >
                {item.label}
              </a>
            ))}
          </nav>
          <div class="ml-auto flex items-center gap-3 text-sm">
            <span class="text-gray-600 dark:text-gray-400" data-testid="current-user">
              {user.name} <span class="text-gray-400 dark:text-gray-500">({user.role})</span>
            </span>
            <form method="post" action="/logout">
              <button
                type="submit"
                class="rounded-md border border-gray-200 px-3 py-1.5 text-gray-700 hover:bg-gray-100 dark:border-gray-700 dark:text-gray-300 dark:hover:bg-gray-800"
              >
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      <main class="mx-auto max-w-6xl px-3 py-6 sm:px-4 sm:py-8">{children}</main>
    </body>
  );
}
