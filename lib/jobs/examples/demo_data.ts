/**
 * Demo rows for the example jobs, so a fresh install shows real work on its
 * first runs. Only called at start-up when JOBWATCH_EXAMPLES is on.
 */
import type { Sql } from "../../db/mod.ts";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const USAGE_EVENT_COUNT = 320;
const USAGE_SPAN_MS = 8 * DAY_MS;
const METRICS = ["api_calls", "emails_sent", "compute_minutes"] as const;

const WORKSPACES = [
  { id: "acme", name: "Acme Corp", ownerEmail: "owner@acme.example", active: true },
  { id: "globex", name: "Globex", ownerEmail: "billing@globex.example", active: true },
  { id: "initech", name: "Initech", ownerEmail: "peter@initech.example", active: true },
  { id: "umbrella", name: "Umbrella (cancelled)", ownerEmail: "admin@umbrella.example", active: false },
];
/** Acme is the busiest; the cancelled workspace still has a little old traffic. */
const EVENT_WORKSPACES = ["acme", "acme", "globex", "initech", "umbrella"];

/**
 * Inserts the demo workspaces, a few hundred usage events over the eight
 * days before `now` and a handful of failed payments. Does nothing (and
 * returns false) once `demo_workspaces` has any row, so start-up can call
 * it every time; two instances starting together seed once, because the
 * second one's workspace insert waits for the first and then conflicts.
 */
export async function seedDemoData(sql: Sql, now: Date): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const [{ seeded }] = await tx<{ seeded: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM demo_workspaces) AS seeded
    `;
    if (seeded) return false;
    const inserted = await tx`
      INSERT INTO demo_workspaces ${tx(WORKSPACES)}
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    `;
    if (inserted.length === 0) return false;

    const events = Array.from({ length: USAGE_EVENT_COUNT }, (_, i) => {
      // Evenly spread over the span, jittered by up to a quarter of an hour either way.
      const ago = ((i + 0.5) * USAGE_SPAN_MS) / USAGE_EVENT_COUNT + (((i * 7919) % 31) - 15) * MINUTE_MS;
      return {
        workspaceId: EVENT_WORKSPACES[i % EVENT_WORKSPACES.length],
        metric: METRICS[i % METRICS.length],
        quantity: 1 + ((i * 37) % 50),
        occurredAt: new Date(now.getTime() - ago),
      };
    });
    await tx`INSERT INTO usage_events ${tx(events)}`;

    const payments = [
      ...[0, 0, 1, 1, 2, 3].map((attempts, i) => ({
        workspaceId: WORKSPACES[i % 3].id,
        amountCents: 1900 + i * 1000,
        status: attempts === 0 ? "failed" : "retrying",
        attempts,
        nextAttemptAt: new Date(now.getTime() - (i + 1) * 10 * MINUTE_MS),
        updatedAt: new Date(now.getTime() - DAY_MS),
      })),
      ...[0, 1].map((i) => ({
        workspaceId: WORKSPACES[i].id,
        amountCents: 4900,
        status: "paid",
        attempts: 1,
        nextAttemptAt: null,
        updatedAt: new Date(now.getTime() - 2 * DAY_MS),
      })),
    ];
    await tx`INSERT INTO demo_payments ${tx(payments)}`;
    return true;
  });
}
