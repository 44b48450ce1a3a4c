/**
 * The wall-clock time of an instant in an IANA zone, read through Intl. Pure: no I/O, no clock.
 * Building an Intl.DateTimeFormat is far slower than using one, and schedules read many instants in
 * few zones, so each zone's formatter is built once.
 */

export interface ZoneTime {
  /** "2027-03-08", the year padded to four digits. */
  date: string;
  /** "09:00" (24-hour). */
  time: string;
  /** "Mon". */
  weekday: string;
  hour: number;
  minute: number;
  /** "EST", "GMT+1", "GMT+5:30": Intl's short name in English. */
  zoneName: string;
  /** The zone's UTC offset, in milliseconds: wall-clock time minus UTC, both to the second. */
  offsetMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "short",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall-clock parts of `instant` (milliseconds since the epoch) in `zone`. */
export function zoneTime(instant: number, zone: string): ZoneTime {
  const part = Object.fromEntries(
    formatterFor(zone).formatToParts(instant).map(({ type, value }) => [type, value]),
  );
  const year = Number(part.year);
  const hour = Number(part.hour);
  const minute = Number(part.minute);
  const wallMs = Date.UTC(year, Number(part.month) - 1, Number(part.day), hour, minute, Number(part.second));
  return {
    date: `${String(year).padStart(4, "0")}-${part.month}-${part.day}`,
    time: `${part.hour}:${part.minute}`,
    weekday: part.weekday,
    hour,
    minute,
    zoneName: part.timeZoneName,
    offsetMs: wallMs - Math.floor(instant / 1000) * 1000,
  };
}
