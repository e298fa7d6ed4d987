// An independent reference for the billing model check (test/chaos/billing-model.test.ts),
// written from CONTRACT §5 and §8 and decisions 0004 and 0005, importing nothing from the engine:
// amounts in plain BigInt fixed point, wall clocks from Intl, meters aggregated by brute force
// over the raw events, prices by a tier walker of its own.

// ---- exact decimals: a bigint count of 10^-30 ----------------------------------------------

const PLACES = 30
const SCALE = 10n ** BigInt(PLACES)
export type Fx = bigint

export function fx(text: string): Fx {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (m === null) throw new Error(`reference: not a plain decimal: "${text}"`)
  const fraction = m[3] ?? ''
  if (fraction.length > PLACES) throw new Error(`reference keeps ${PLACES} places, got ${text}`)
  const x = BigInt(m[2]!) * SCALE + BigInt(fraction.padEnd(PLACES, '0'))
  return m[1] === '-' ? -x : x
}

/** Canonical text: no exponent, no trailing zeros, never "-0" (big.js's toString for these). */
export function fxText(x: Fx): string {
  const abs = x < 0n ? -x : x
  const fraction = (abs % SCALE).toString().padStart(PLACES, '0').replace(/0+$/, '')
  return `${x < 0n ? '-' : ''}${abs / SCALE}${fraction === '' ? '' : `.${fraction}`}`
}

export function fxMul(a: Fx, b: Fx): Fx {
  if ((a * b) % SCALE !== 0n) throw new Error('reference: product needs more than 30 places')
  return (a * b) / SCALE
}

const max0 = (x: Fx) => (x < 0n ? 0n : x)

export const MINOR_DIGITS: Record<string, number> = { USD: 2, JPY: 0, KWD: 3 }

/** Half-up, symmetric (−0.005 USD is −0.01), to `digits` places. */
export function roundTo(x: Fx, digits: number): Fx {
  const unit = 10n ** BigInt(PLACES - digits)
  const sign = x < 0n ? -1n : 1n
  const abs = x * sign
  const whole = abs / unit + ((abs % unit) * 2n >= unit ? 1n : 0n)
  return whole * unit * sign
}

/** A money amount as an invoice writes it: exactly the currency's minor digits. */
export function moneyText(x: Fx, digits: number): string {
  const r = roundTo(x, digits)
  const abs = r < 0n ? -r : r
  const whole = abs / SCALE
  const fraction = (abs % SCALE).toString().padStart(PLACES, '0').slice(0, digits)
  return `${r < 0n ? '-' : ''}${whole}${digits > 0 ? `.${fraction}` : ''}`
}

// ---- wall clocks and billing periods ------------------------------------------------------

export const DAY_MS = 86_400_000
const formats = new Map<string, Intl.DateTimeFormat>()

/** The local wall-clock time at `ms`, as milliseconds of a UTC date with the same fields. */
export function wallClock(ms: number, timeZone: string): number {
  let f = formats.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    })
    formats.set(timeZone, f)
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]))
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((ms % 1000) + 1000) % 1000)
}

/**
 * The instant a local wall-clock time names: its first showing when shown twice; when the zone
 * skips it (a DST gap), the first instant after the gap (CONTRACT §8, periods.ts's documented rule).
 */
export function instantOf(wall: number, timeZone: string): number {
  const key = `${timeZone} ${wall}`
  let ms = instants.get(key)
  if (ms === undefined) {
    ms = searchInstant(wall, timeZone)
    instants.set(key, ms)
  }
  return ms
}
const instants = new Map<string, number>()

function searchInstant(wall: number, timeZone: string): number {
  const candidates = [-DAY_MS, 0, DAY_MS].map((k) => wall - (wallClock(wall + k, timeZone) - (wall + k)))
  const hits = candidates.filter((c) => wallClock(c, timeZone) === wall)
  if (hits.length > 0) return Math.min(...hits)
  let lo = Math.min(...candidates)
  let hi = Math.max(...candidates)
  // wallClock(lo) < wall < wallClock(hi): find the first instant past the gap.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (wallClock(mid, timeZone) > wall) hi = mid
    else lo = mid
  }
  return hi
}

export type Interval = 'day' | 'week' | 'month'
export interface Rule { interval: Interval; anchor: 'calendar' | 'anniversary'; timeZone: string; anchorMs: number }
export interface Span { startMs: number; endMs: number }

/** The natural billing period holding `ms`: local calendar days/Mondays/1sts, or anniversaries of the anchor. */
export function naturalPeriod(rule: Rule, ms: number): Span {
  const { timeZone } = rule
  if (rule.anchor === 'calendar') {
    const day = Math.floor(wallClock(ms, timeZone) / DAY_MS)
    let from: number
    let to: number
    if (rule.interval === 'day') [from, to] = [day * DAY_MS, (day + 1) * DAY_MS]
    else if (rule.interval === 'week') {
      const monday = day - (((day + 3) % 7) + 7) % 7 // 1970-01-05, day 4, was a Monday
      ;[from, to] = [monday * DAY_MS, (monday + 7) * DAY_MS]
    } else {
      const d = new Date(day * DAY_MS)
      ;[from, to] = [Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)]
    }
    return { startMs: instantOf(from, timeZone), endMs: instantOf(to, timeZone) }
  }
  const at = anniversaries(rule)
  const stepMs = rule.interval === 'day' ? DAY_MS : rule.interval === 'week' ? 7 * DAY_MS : 30 * DAY_MS
  let n = Math.floor((ms - rule.anchorMs) / stepMs)
  while (at(n) > ms) n--
  while (at(n + 1) <= ms) n++
  return { startMs: at(n), endMs: at(n + 1) }
}

/** The n-th anniversary: the anchor's local time n days/weeks/months on (a short month's last day). */
function anniversaries(rule: Rule): (n: number) => number {
  const { timeZone, anchorMs } = rule
  const wall = wallClock(anchorMs, timeZone)
  const a = new Date(wall)
  const timeOfDay = wall - Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), a.getUTCDate())
  return (n) => {
    if (n === 0) return anchorMs
    if (rule.interval !== 'month') return instantOf(wall + n * (rule.interval === 'day' ? 1 : 7) * DAY_MS, timeZone)
    const lastDay = new Date(Date.UTC(a.getUTCFullYear(), a.getUTCMonth() + n + 1, 0)).getUTCDate()
    return instantOf(Date.UTC(a.getUTCFullYear(), a.getUTCMonth() + n, Math.min(a.getUTCDate(), lastDay)) + timeOfDay, timeZone)
  }
}

/**
 * The share of `period` in [from, to): the difference of two positions, each the elapsed share
 * rounded half-up to 20 places. That rounding is the engine's documented choice (proration.ts:
 * within 1e-20 of the ratio of milliseconds, and the parts of a split sum to exactly 1); the
 * reference follows it so that an amount exactly on a half minor unit rounds the same way.
 */
export function prorationFraction(period: Span, fromMs: number, toMs: number): Fx {
  const len = BigInt(period.endMs - period.startMs)
  const position = (ms: number): Fx => {
    if (ms <= period.startMs) return 0n
    if (ms >= period.endMs) return SCALE
    const scaled = BigInt(ms - period.startMs) * 10n ** 20n
    const q = scaled / len + ((scaled % len) * 2n >= len ? 1n : 0n)
    return q * 10n ** BigInt(PLACES - 20)
  }
  return toMs <= fromMs ? 0n : position(toMs) - position(fromMs)
}

// ---- meters, by brute force over the events -----------------------------------------------

export type Scalar = string | number | boolean | null
export interface RefMeter {
  key: string
  event: string
  aggregation: 'sum' | 'count' | 'unique_count' | 'max' | 'latest'
  property?: string
  filter?: Record<string, Scalar[]>
  groupBy?: string[]
}
export interface RefEvent { id: string; name: string; ts: number; properties: Record<string, unknown> }

/** A property value as a number: a finite JSON number (its shortest decimal form) or a numeric string. */
function numeric(v: unknown): Fx | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? fx(String(v)) : undefined
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return fx(v)
  return undefined
}

/** What the event gives the meter, or undefined when the meter does not count it. */
function contribution(m: RefMeter, e: RefEvent): { value: Fx; unique: string } | undefined {
  if (e.name !== m.event) return undefined
  for (const [path, values] of Object.entries(m.filter ?? {})) {
    const v = e.properties[path]
    if (v === undefined || !values.some((x) => JSON.stringify(x) === JSON.stringify(v))) return undefined
  }
  if (m.aggregation === 'count') return { value: 0n, unique: '' }
  const v = e.properties[m.property!]
  if (m.aggregation === 'unique_count') return v === undefined || v === null ? undefined : { value: 0n, unique: JSON.stringify(v) }
  const value = numeric(v)
  return value === undefined ? undefined : { value, unique: '' }
}

function aggregate(m: RefMeter, parts: { e: RefEvent; value: Fx; unique: string }[]): Fx {
  switch (m.aggregation) {
    case 'count': return BigInt(parts.length) * SCALE
    case 'sum': return parts.reduce((s, p) => s + p.value, 0n)
    case 'unique_count': return BigInt(new Set(parts.map((p) => p.unique)).size) * SCALE
    case 'max': return parts.length === 0 ? 0n : parts.reduce((a, p) => (p.value > a ? p.value : a), parts[0]!.value)
    case 'latest': {
      // Greatest timestamp, ties by greatest id (code-unit order).
      const last = [...parts].sort((a, b) => a.e.ts - b.e.ts || (a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0)).at(-1)
      return last === undefined ? 0n : last.value
    }
  }
}

export interface RefUsage {
  quantity: Fx
  /** The events the meter counted. */
  events: RefEvent[]
  /** With a dimension: per value (its JSON form), the quantity and the events. */
  byDimension: Map<string, { quantity: Fx; events: RefEvent[] }>
}

/** The meter over `events` (already cut to the range), optionally split by one of its dimensions. */
export function usage(m: RefMeter, events: RefEvent[], dimension?: string): RefUsage {
  const parts = events.flatMap((e) => {
    const c = contribution(m, e)
    return c === undefined ? [] : [{ e, ...c }]
  })
  const groups = new Map<string, typeof parts>()
  if (dimension !== undefined) {
    for (const p of parts) {
      const v = p.e.properties[dimension]
      const key = JSON.stringify(v === undefined ? null : v)
      groups.set(key, [...(groups.get(key) ?? []), p])
    }
  }
  return {
    quantity: aggregate(m, parts),
    events: parts.map((p) => p.e),
    byDimension: new Map([...groups].map(([k, g]) => [k, { quantity: aggregate(m, g), events: g.map((p) => p.e) }])),
  }
}

// ---- prices --------------------------------------------------------------------------------

export interface RefTier { upTo: string | null; unitAmount?: string; flatAmount?: string }
export type RefPrice =
  | { model: 'per_unit'; unitAmount: string }
  | { model: 'package'; packageSize: string; amount: string; round?: 'up' | 'down' }
  | { model: 'graduated' | 'volume'; tiers: RefTier[] }
export type RefCharge = { key: string; meter: string; freeUnits?: string; minimum?: string; maximum?: string } & (
  RefPrice | { model: 'dimensional'; dimension: string; prices: Record<string, RefPrice> })

const amountOf = (text: string | undefined) => (text === undefined ? 0n : fx(text))

/** One simple price for a quantity; a negative quantity costs what 0 does. */
export function priceOf(p: RefPrice, quantity: Fx): Fx {
  const q = max0(quantity)
  switch (p.model) {
    case 'per_unit': return fxMul(q, fx(p.unitAmount))
    case 'package': {
      const size = fx(p.packageSize)
      const packages = q / size + ((p.round ?? 'up') === 'up' && q % size !== 0n ? 1n : 0n)
      return packages * fx(p.amount)
    }
    case 'graduated': {
      // Walk the tiers: tier i holds the units in (upTo of i−1, upTo of i]; a tier with any units
      // charges its flatAmount.
      let amount = 0n
      let lower = 0n
      for (const t of p.tiers) {
        const upper = t.upTo === null || q < fx(t.upTo) ? q : fx(t.upTo)
        if (upper > lower) amount += fxMul(upper - lower, amountOf(t.unitAmount)) + amountOf(t.flatAmount)
        if (t.upTo === null || q <= fx(t.upTo)) break
        lower = upper
      }
      return amount
    }
    case 'volume': {
      if (q === 0n) return 0n // zero usage reaches no tier (0004)
      const t = p.tiers.find((x) => x.upTo === null || q <= fx(x.upTo))!
      return fxMul(q, amountOf(t.unitAmount)) + amountOf(t.flatAmount)
    }
  }
}

/** minimum raises, then maximum caps: the maximum wins when they cross. */
function bounded(c: RefCharge, amount: Fx): Fx {
  let a = amount
  if (c.minimum !== undefined && a < fx(c.minimum)) a = fx(c.minimum)
  if (c.maximum !== undefined && a > fx(c.maximum)) a = fx(c.maximum)
  return a
}

export interface RefLine {
  /** A dimensional value line: the value's JSON form. Absent on plain lines and on a minimum/maximum line. */
  dimension?: string
  quantity: Fx
  amount: Fx
}

/**
 * A charge's lines for its usage (unrounded): one line for a plain charge; for a dimensional one,
 * a line per priced value with usage (listed keys in the prices object's order, then "*" values by
 * JSON form), freeUnits used up in that order, and one extra line when minimum/maximum change the sum.
 */
export function rate(c: RefCharge, u: RefUsage): RefLine[] {
  if (c.model !== 'dimensional') {
    const q = max0(max0(u.quantity) - amountOf(c.freeUnits))
    return [{ quantity: q, amount: bounded(c, priceOf(c, q)) }]
  }
  const listed = Object.keys(c.prices).filter((k) => k !== '*')
  const rank = (key: string): number | undefined => {
    const v = JSON.parse(key) as Scalar
    const i = v === null ? -1 : listed.indexOf(String(v))
    return i >= 0 ? i : Object.hasOwn(c.prices, '*') ? listed.length : undefined
  }
  const values = [...u.byDimension].filter(([k, g]) => g.quantity > 0n && rank(k) !== undefined)
    .sort(([a], [b]) => rank(a)! - rank(b)! || (a < b ? -1 : a > b ? 1 : 0))
  let free = amountOf(c.freeUnits)
  let total = 0n
  const lines: RefLine[] = values.map(([key, g]) => {
    const taken = free < g.quantity ? free : g.quantity
    free -= taken
    const r = rank(key)!
    const amount = priceOf(c.prices[r < listed.length ? listed[r]! : '*']!, g.quantity - taken)
    total += amount
    return { dimension: key, quantity: g.quantity - taken, amount }
  })
  const final = bounded(c, total)
  if (final !== total) lines.push({ quantity: 0n, amount: final - total })
  return lines
}
