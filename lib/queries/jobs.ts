/** Queries on job definitions. */
import type { Sql } from "../db/mod.ts";

export interface JobDefinition {
  id: string;
  displayName: string;
  description: string | null;
  schedule: string;
  timezone: string;
  timeoutSeconds: number;
  enabled: boolean;
  createdAt: Date;
}

/** Every job definition, by display name. */
export async function listJobDefinitions(sql: Sql): Promise<JobDefinition[]> {
  return await sql<JobDefinition[]>`
    SELECT id, display_name, description, schedule, timezone, timeout_seconds, enabled, created_at
    FROM job_definitions
    ORDER BY display_name, id
  `;
}
