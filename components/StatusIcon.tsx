/**
 * Execution status as icons and badges. Client-safe (islands use it): the
 * icons are inline SVG drawn after lucide's, hidden from assistive
 * technology, because the label text next to them carries the meaning.
 */
import type { ComponentChildren } from "preact";
import type { ExecutionStatus } from "../lib/events.ts";

export const STATUS_LABELS: Record<ExecutionStatus, string> = {
  completed: "Completed",
  failed: "Failed",
  running: "Running",
  skipped: "Skipped",
};

const ICON_COLOURS: Record<ExecutionStatus, string> = {
  completed: "text-green-600 dark:text-green-400",
  failed: "text-red-600 dark:text-red-400",
  running: "text-blue-600 dark:text-blue-400",
  skipped: "text-gray-500 dark:text-gray-400",
};

const BADGE_COLOURS: Record<ExecutionStatus, string> = {
  completed: "bg-green-100 text-green-800 dark:bg-green-900/40 dark:text-green-300",
  failed: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
  running: "bg-blue-100 text-blue-800 dark:bg-blue-900/40 dark:text-blue-300",
  skipped: "bg-gray-100 text-gray-700 dark:bg-gray-800 dark:text-gray-300",
};

const SPIN = "animate-spin motion-reduce:animate-none";

/** A 24×24 line icon in the current text colour, hidden from screen readers (text beside it says it). */
export function Svg({ class: className, children }: { class: string; children: ComponentChildren }) {
  return (
    <svg
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      class={className}
    >
      {children}
    </svg>
  );
}

/** The icon of a status: check, cross, a spinning refresh while running, skip-forward. */
export function StatusIcon(
  { status, size = "h-4 w-4", colour = true }: { status: ExecutionStatus; size?: string; colour?: boolean },
) {
  const className = `${size} shrink-0 ${colour ? ICON_COLOURS[status] : ""} ${
    status === "running" ? SPIN : ""
  }`;
  switch (status) {
    case "completed":
      return (
        <Svg class={className}>
          <circle cx="12" cy="12" r="10" />
          <path d="m9 12 2 2 4-4" />
        </Svg>
      );
    case "failed":
      return (
        <Svg class={className}>
          <circle cx="12" cy="12" r="10" />
          <path d="m15 9-6 6" />
          <path d="m9 9 6 6" />
        </Svg>
      );
    case "running":
      return (
        <Svg class={className}>
          <path d="M3 12a9 9 0 0 1 9-9 9.75 9.75 0 0 1 6.74 2.74L21 8" />
          <path d="M21 3v5h-5" />
          <path d="M21 12a9 9 0 0 1-9 9 9.75 9.75 0 0 1-6.74-2.74L3 16" />
          <path d="M8 16H3v5" />
        </Svg>
      );
    default:
      return (
        <Svg class={className}>
          <polygon points="5 4 15 12 5 20 5 4" />
          <line x1="19" x2="19" y1="5" y2="19" />
        </Svg>
      );
  }
}

/** A coloured pill: the status icon and its label. */
export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return (
    <span
      class={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ${
        BADGE_COLOURS[status]
      }`}
    >
      <StatusIcon status={status} size="h-3.5 w-3.5" colour={false} />
      {STATUS_LABELS[status]}
    </span>
  );
}

/** A small spinning circle for pending actions; decorative, so say what is pending in text beside it. */
export function Spinner({ size = "h-4 w-4" }: { size?: string }) {
  return (
    <Svg class={`${size} shrink-0 ${SPIN}`}>
      <path d="M21 12a9 9 0 1 1-6.219-8.56" />
    </Svg>
  );
}
