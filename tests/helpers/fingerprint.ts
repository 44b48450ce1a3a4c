/**
 * A digest of everything a request could change, for tests that check a
 * refused request left the database as it was.
 */
import type { Sql } from "../../lib/db/mod.ts";

/** What the database holds, minus what a rejected request may legitimately write (failed sign-ins). */
export async function fingerprint(sql: Sql): Promise<string> {
  const [row] = await sql<{ fingerprint: string }[]>`
    SELECT md5(concat_ws('|',
      (SELECT string_agg(e::text, ',' ORDER BY id) FROM job_executions e),
      (SELECT string_agg(d::text, ',' ORDER BY id) FROM job_definitions d),
      (SELECT string_agg(row(id, job_id, label, created_by, revoked_at)::text, ',' ORDER BY id) FROM job_tokens),
      (SELECT string_agg(row(id, email, name, role, password_hash)::text, ',' ORDER BY id) FROM users),
      (SELECT string_agg(row(id_hash, user_id)::text, ',' ORDER BY id_hash) FROM sessions),
      (SELECT string_agg(a::text, ',' ORDER BY id) FROM audit_events a
        WHERE action NOT IN ('auth.sign_in_failed', 'auth.sign_in_limited')),
      (SELECT string_agg(s::text, ',' ORDER BY job_id) FROM job_alert_state s),
      (SELECT string_agg(a::text, ',' ORDER BY id) FROM alerts a),
      (SELECT string_agg(o::text, ',' ORDER BY id) FROM alert_outbox o),
      (SELECT string_agg(s::text, ',' ORDER BY job_id, status) FROM job_execution_stats s)
    )) AS fingerprint
  `;
  return row.fingerprint;
}
