// RFC 3339 timestamps: any offset accepted on input, UTC with milliseconds on output.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** Milliseconds since the epoch, or `undefined` when `text` is not a valid RFC 3339 date-time. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  // A leap second (:60) is folded onto the next second, as Date does.
  if (hour > 23 || minute > 59 || second > 60) return undefined
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined
  const ms = Date.parse(second === 60 ? text.replace(/:60(?=[.Zz+-])/, ':59') : text)
  if (!Number.isFinite(ms)) return undefined
  return second === 60 ? ms + 1000 : ms
}

/** `2026-11-25T10:00:00.000Z` */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString()
}
