/**
 * Plain-English descriptions of parsed schedules, for the dashboard. Common shapes get a sentence
 * ("Every Monday at 09:00 America/New_York", "Every 15 minutes", "On the last day of every month at
 * 09:00 UTC"); anything else returns null, and the schedule shows its expression and zone instead.
 */
import type { CronFields } from "./schedule.ts";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const ORDINALS = ["first", "second", "third", "fourth", "fifth"];

/** "Every hour", "Every 15 minutes"; day periods start at 00:00 UTC, so the description says so. */
export function describeRate(value: number, unit: "minute" | "hour" | "day"): string {
  const every = value === 1 ? `Every ${unit}` : `Every ${value} ${unit}s`;
  return unit === "day" ? `${every} at 00:00 UTC` : every;
}

/** A sentence for a common cron shape, or null when the shape is too unusual to put well in words. */
export function describeCron(fields: CronFields, timezone: string): string | null {
  const days = dayPhrase(fields);
  const years = yearPhrase(fields.year);
  if (!days || years === null) return null;
  const { minute, hour } = fields;
  const minuteStep = stepOf(minute, 60);
  const hourStep = stepOf(hour, 24);
  const monthsSuffix = days.monthsIncluded || fields.month.length === 12
    ? ""
    : ` in ${joinAnd(monthNames(fields))}`;
  const calendar = `${monthsSuffix}${years}`;
  const restricted = days.on !== "" || calendar !== "";
  const interval = (text: string, zoned: boolean) =>
    `${text}${days.on}${calendar}${zoned || restricted ? ` (${timezone})` : ""}`;
  const times = hour.flatMap((h) => minute.map((m) => clock(h, m)));
  const atTimes = () => `${days.every}${calendar} at ${joinAnd(times)} ${timezone}`;

  if (hour.length === 24) {
    if (minuteStep) return interval(minuteStep === 1 ? "Every minute" : `Every ${minuteStep} minutes`, false);
    if (minute.length === 1) {
      return interval(minute[0] === 0 ? "Every hour" : `At minute ${minute[0]} of every hour`, false);
    }
    if (minute.length <= 4) return interval(`At minutes ${joinAnd(minute.map(String))} of every hour`, false);
    return null;
  }
  if (times.length <= 3) return atTimes();
  if (minute.length === 1 && hourStep) {
    return interval(`Every ${hourStep} hours${minute[0] === 0 ? "" : ` at minute ${minute[0]}`}`, true);
  }
  const contiguous = hour.every((h, index) => h === hour[0] + index);
  if (contiguous && (minuteStep || minute.length === 1)) {
    const every = minute.length === 1
      ? "Every hour"
      : minuteStep === 1
      ? "Every minute"
      : `Every ${minuteStep} minutes`;
    return interval(`${every} from ${times[0]} to ${times.at(-1)}`, true);
  }
  return times.length <= 4 ? atTimes() : null;
}

interface DayPhrase {
  /** Starts a sentence about times of day: "Every Monday", "On day 1 of every month". */
  every: string;
  /** Follows an interval: "", " on Mondays", " on day 1 of every month". */
  on: string;
  /** Whether the phrase already names the months ("On day 1 of January"). */
  monthsIncluded: boolean;
}

function dayPhrase(fields: CronFields): DayPhrase | null {
  const dom = fields.dayOfMonth;
  const dow = fields.dayOfWeek;
  const allDaysOfWeek = dow.kind === "every" || (dow.kind === "days" && dow.days.length === 7);
  if (dom.kind === "every" && allDaysOfWeek) return { every: "Every day", on: "", monthsIncluded: false };
  if (dom.kind === "every" && dow.kind === "days") {
    const weekdays = dow.days.join() === "1,2,3,4,5";
    const names = [...dow.days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7)).map((day) => DAYS[day]);
    return {
      every: weekdays ? "Every weekday" : `Every ${joinAnd(names)}`,
      on: weekdays ? " on weekdays" : ` on ${joinAnd(names.map((name) => `${name}s`))}`,
      monthsIncluded: false,
    };
  }
  let day: string;
  if (dow.kind === "nth" || dow.kind === "last") {
    if (dom.kind !== "every") return null;
    day = `the ${dow.kind === "nth" ? ORDINALS[dow.nth - 1] : "last"} ${DAYS[dow.day]}`;
  } else if (dow.kind === "every") {
    if (dom.kind === "every") return null;
    day = dom.kind === "days"
      ? (dom.days.length === 1
        ? `day ${dom.days[0]}`
        : dom.days.length <= 4
        ? `days ${joinAnd(dom.days.map(String))}`
        : "")
      : dom.kind === "last"
      ? "the last day"
      : dom.kind === "lastWeekday"
      ? "the last weekday"
      : `the weekday nearest day ${dom.day}`;
    if (day === "") return null;
  } else {
    // Five-field cron with both day fields restricted (either one fires): too subtle for a sentence.
    return null;
  }
  const months = fields.month.length === 12 ? "every month" : joinAnd(monthNames(fields));
  return { every: `On ${day} of ${months}`, on: ` on ${day} of ${months}`, monthsIncluded: true };
}

function yearPhrase(years: number[] | null): string | null {
  if (years === null) return "";
  if (years.length === 1) return ` in ${years[0]}`;
  if (years.every((year, index) => year === years[0] + index)) return ` from ${years[0]} to ${years.at(-1)}`;
  return years.length <= 4 ? ` in ${joinAnd(years.map(String))}` : null;
}

/** n when `values` is 0, n, 2n, … up to `size` and n divides `size`; else null. */
function stepOf(values: number[], size: number): number | null {
  if (values.length < 2 || values[0] !== 0) return null;
  const step = values[1];
  const regular = size % step === 0 && values.length === size / step &&
    values.every((v, i) => v === i * step);
  return regular ? step : null;
}

function monthNames(fields: CronFields): string[] {
  return fields.month.map((month) => MONTHS[month - 1]);
}

function clock(hour: number, minute: number): string {
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

function joinAnd(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
