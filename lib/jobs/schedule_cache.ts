/**
 * Parsed schedules by expression and zone, for pages that show every job's
 * schedule on each request: parsing checks the zone with Intl and compiles
 * the cron pattern, which costs more than rendering the card. A Schedule is
 * immutable, so one parse serves every request. Bad schedules are not kept.
 */
import { parseSchedule, type Schedule } from "./schedule.ts";

const MAX_ENTRIES = 1000;
const schedules = new Map<string, Schedule>();

/** `parseSchedule`, remembered; throws what parseSchedule throws. */
export function cachedSchedule(expression: string, timezone: string): Schedule {
  const key = `${timezone}\n${expression}`;
  let schedule = schedules.get(key);
  if (!schedule) {
    schedule = parseSchedule(expression, timezone);
    if (schedules.size >= MAX_ENTRIES) schedules.delete(schedules.keys().next().value!);
    schedules.set(key, schedule);
  }
  return schedule;
}
