/** Queries on job definitions. */
import type { AlertPolicy } from "../alerts/policy.ts";
import type { Queryable, Sql } from "../db/mod.ts";

export interface JobDefinition {
  id: string;
  displayName: string;
  description: string | null;
  schedule: string;
  timezone: string;
  timeoutSeconds: number;
  enabled: boolean;
  external: boolean;
  concurrency: "skip" | "allow";
  critical: boolean;
  maxAgeHours: number | null;
  /** As stored; read it with `readAlertPolicy` (lib/alerts/policy.ts). */
  alertPolicy: unknown;
  retiredAt: Date | null;
  createdAt: Date;
}

/** The columns of a `JobDefinition`, for queries that select definitions with more. */
export const jobDefinitionColumns = (sql: Queryable) =>
  sql`id, display_name, description, schedule, timezone, timeout_seconds, enabled, external,
      concurrency, critical, max_age_hours::float8 AS max_age_hours, alert_policy, retired_at, created_at`;

/** Every job definition, current ones first, then by display name. */
export async function listJobDefinitions(sql: Queryable): Promise<JobDefinition[]> {
  return await sql<JobDefinition[]>`
    SELECT ${jobDefinitionColumns(sql)}
    FROM job_definitions
    ORDER BY retired_at IS NOT NULL, display_name, id
  `;
}

export async function getJobDefinition(sql: Queryable, id: string): Promise<JobDefinition | null> {
  const [row] = await sql<JobDefinition[]>`SELECT ${
    jobDefinitionColumns(sql)
  } FROM job_definitions WHERE id = ${id}`;
  return row ?? null;
}

/** The fields of a definition that code declares (the rest is the database's). */
export type DeclaredJob = Omit<JobDefinition, "retiredAt" | "createdAt" | "alertPolicy"> & {
  alertPolicy: AlertPolicy;
};

export interface SyncOptions {
  /**
   * Retire current jobs missing from `jobs` (default true: `jobs` is everything the code declares).
   * False syncs only the given jobs and leaves the others as they are, e.g. a benchmark adding its own.
   */
  retireMissing?: boolean;
}

/**
 * Brings job_definitions in line with the jobs declared in code: inserts new
 * ones, updates changed fields (but never `enabled`, which belongs to the
 * admin's toggle once a job exists), un-retires returning ones, and retires
 * (never deletes) jobs no longer declared, unless `retireMissing` is false.
 * Returns what changed.
 */
export async function syncJobDefinitions(
  sql: Sql,
  jobs: DeclaredJob[],
  now: Date,
  options: SyncOptions = {},
): Promise<{ inserted: string[]; updated: string[]; retired: string[] }> {
  return await sql.begin(async (tx) => {
    const inserted: string[] = [];
    const updated: string[] = [];
    for (const job of jobs) {
      const [before] = await tx<{ schedule: string; timezone: string; retiredAt: Date | null }[]>`
        SELECT schedule, timezone, retired_at FROM job_definitions WHERE id = ${job.id}
      `;
      const [row] = await tx<{ inserted: boolean }[]>`
        INSERT INTO job_definitions (id, display_name, description, schedule, timezone, timeout_seconds,
                                     enabled, external, concurrency, critical, max_age_hours,
                                     alert_policy, created_at, updated_at)
        VALUES (${job.id}, ${job.displayName}, ${job.description}, ${job.schedule}, ${job.timezone},
                ${job.timeoutSeconds}, ${job.enabled}, ${job.external}, ${job.concurrency}, ${job.critical},
                ${job.maxAgeHours}, ${tx.json(job.alertPolicy as never)}, ${now}, ${now})
        ON CONFLICT (id) DO UPDATE SET
          display_name = EXCLUDED.display_name, description = EXCLUDED.description,
          schedule = EXCLUDED.schedule, timezone = EXCLUDED.timezone,
          timeout_seconds = EXCLUDED.timeout_seconds, external = EXCLUDED.external,
          concurrency = EXCLUDED.concurrency, critical = EXCLUDED.critical,
          max_age_hours = EXCLUDED.max_age_hours, alert_policy = EXCLUDED.alert_policy,
          retired_at = NULL, updated_at = EXCLUDED.updated_at,
          -- A new schedule, or a job back from retirement, starts from now (set below), not from the
          -- old cursor: the stretch before is not "missed".
          scheduled_through = CASE
            WHEN (job_definitions.schedule, job_definitions.timezone)
                 IS DISTINCT FROM (EXCLUDED.schedule, EXCLUDED.timezone)
              OR job_definitions.retired_at IS NOT NULL THEN NULL
            ELSE job_definitions.scheduled_through END
        WHERE (job_definitions.display_name, job_definitions.description, job_definitions.schedule,
               job_definitions.timezone, job_definitions.timeout_seconds, job_definitions.external,
               job_definitions.concurrency, job_definitions.critical, job_definitions.max_age_hours::float8,
               job_definitions.alert_policy, job_definitions.retired_at IS NULL)
          IS DISTINCT FROM
              (EXCLUDED.display_name, EXCLUDED.description, EXCLUDED.schedule, EXCLUDED.timezone,
               EXCLUDED.timeout_seconds, EXCLUDED.external, EXCLUDED.concurrency, EXCLUDED.critical,
               EXCLUDED.max_age_hours::float8, EXCLUDED.alert_policy, true)
        RETURNING (xmax = 0) AS inserted
      `;
      if (row) (row.inserted ? inserted : updated).push(job.id);
      if (
        before &&
        (before.retiredAt !== null || before.schedule !== job.schedule || before.timezone !== job.timezone)
      ) {
        // A new schedule (or a job back from retirement) is watched from now: its old
        // schedule's rhythm must not make it look overdue.
        await tx`
          UPDATE job_alert_state SET watch_from = ${now}, overdue_since = NULL, updated_at = ${now}
          WHERE job_id = ${job.id}
        `;
      }
    }
    // The scheduler plans a job's occurrences after its cursor. A job without one (new, rescheduled, back
    // from retirement, or added by a CLI command) starts from now, so its next occurrence runs even when it
    // falls before the first tick, and none before now counts as missed.
    await tx`
      UPDATE job_definitions SET scheduled_through = ${now}
      WHERE id = ANY(${tx.array(jobs.map((j) => j.id))}::text[])
        AND scheduled_through IS NULL AND retired_at IS NULL
    `;
    if (options.retireMissing === false) return { inserted, updated, retired: [] };
    const retired = await tx<{ id: string }[]>`
      UPDATE job_definitions SET retired_at = ${now}, updated_at = ${now}
      WHERE retired_at IS NULL AND id <> ALL(${tx.array(jobs.map((j) => j.id))}::text[])
      RETURNING id
    `;
    return { inserted, updated, retired: retired.map((r) => r.id) };
  });
}

/**
 * Inserts declared jobs that have no row yet and changes nothing else: for
 * CLI commands, whose view of the code may differ from the running server's.
 */
export async function insertMissingJobDefinitions(
  sql: Queryable,
  jobs: DeclaredJob[],
  now: Date,
): Promise<string[]> {
  const inserted: string[] = [];
  for (const job of jobs) {
    const rows = await sql`
      INSERT INTO job_definitions (id, display_name, description, schedule, timezone, timeout_seconds,
                                   enabled, external, concurrency, critical, max_age_hours, alert_policy,
                                   created_at, updated_at)
      VALUES (${job.id}, ${job.displayName}, ${job.description}, ${job.schedule}, ${job.timezone},
              ${job.timeoutSeconds}, ${job.enabled}, ${job.external}, ${job.concurrency}, ${job.critical},
              ${job.maxAgeHours}, ${sql.json(job.alertPolicy as never)}, ${now}, ${now})
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    `;
    if (rows.length > 0) inserted.push(job.id);
  }
  return inserted;
}

export interface SchedulerCursor {
  id: string;
  enabled: boolean;
  scheduledThrough: Date | null;
}

/** The scheduler's view of the current (not retired) jobs. */
export async function listSchedulerCursors(sql: Queryable): Promise<SchedulerCursor[]> {
  return await sql<SchedulerCursor[]>`
    SELECT id, enabled, scheduled_through FROM job_definitions WHERE retired_at IS NULL
  `;
}

/** Moves the scheduler's cursor of these jobs forward to `through` (never back). */
export async function advanceSchedulerCursors(
  sql: Queryable,
  jobIds: string[],
  through: Date,
): Promise<void> {
  if (jobIds.length === 0) return;
  await sql`
    UPDATE job_definitions SET scheduled_through = ${through}
    WHERE id = ANY(${sql.array(jobIds)}::text[])
      AND (scheduled_through IS NULL OR scheduled_through < ${through})
  `;
}

/** Enables or disables a job; null when there is no such job. */
export async function setJobEnabled(
  sql: Queryable,
  id: string,
  enabled: boolean,
  now: Date,
): Promise<JobDefinition | null> {
  const [row] = await sql<JobDefinition[]>`
    WITH before AS (SELECT id, enabled FROM job_definitions WHERE id = ${id}),
    changed AS (
      UPDATE job_definitions SET enabled = ${enabled}, updated_at = ${now},
        -- Re-enabled jobs resume from now: the disabled stretch is not "missed".
        scheduled_through = CASE WHEN ${enabled} AND NOT enabled THEN ${now} ELSE scheduled_through END
      WHERE id = ${id}
      RETURNING *
    ),
    -- Nor is it "overdue": lateness is measured afresh from the moment it is enabled.
    watch AS (
      UPDATE job_alert_state s SET watch_from = ${now}, overdue_since = NULL, updated_at = ${now}
      FROM before WHERE s.job_id = before.id AND ${enabled} AND NOT before.enabled
    )
    SELECT ${jobDefinitionColumns(sql)} FROM changed
  `;
  return row ?? null;
}
