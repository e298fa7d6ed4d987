// The periods reports are cut into: calendar months in UTC (a tenant's books have one calendar,
// whatever its customers' time zones), each clipped to the range asked for.

export interface ReportPeriod {
  /** `YYYY-MM` */
  month: string
  startMs: number
  endMs: number
}

function monthStart(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

function nextMonth(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

/** The months that overlap [fromMs, toMs), in order; the first and last may be partial. */
export function monthsIn(fromMs: number, toMs: number): ReportPeriod[] {
  const out: ReportPeriod[] = []
  for (let m = monthStart(fromMs); m < toMs; m = nextMonth(m)) {
    out.push({ month: new Date(m).toISOString().slice(0, 7), startMs: Math.max(m, fromMs), endMs: Math.min(nextMonth(m), toMs) })
  }
  return out
}

/** The index in `periods` of the period holding `ms` (periods sorted and contiguous), or -1. */
export function periodIndex(periods: readonly ReportPeriod[], ms: number): number {
  let lo = 0
  let hi = periods.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const p = periods[mid]!
    if (ms < p.startMs) hi = mid - 1
    else if (ms >= p.endMs) lo = mid + 1
    else return mid
  }
  return -1
}
