// Random billing scenarios for the model check (test/chaos/billing-model.test.ts): a
// configuration (meters, plans with usage and flat charges, usage priced in money or in credits),
// customers in several time zones, and a list of steps (events, voids, amends, billing runs, plan
// changes, cancels). Instants are fractions resolved against the state when a step runs, so every
// shrunk scenario is still valid.
import fc from 'fast-check'
import { DAY_MS, type Interval, type RefCharge, type RefMeter, type RefPrice, type RefTier } from './reference-billing.js'

export const EVENT_NAMES = ['job.done', 'job.sample'] as const
export const TIME_ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata'] as const
export const CURRENCIES = ['USD', 'JPY', 'KWD'] as const
export const PERIOD_MS: Record<Interval, number> = { day: DAY_MS, week: 7 * DAY_MS, month: 30 * DAY_MS }

export type Properties = Record<string, unknown>

export interface MeterSpec {
  event: 0 | 1
  aggregation: RefMeter['aggregation']
  groupBy: 'none' | 'd' | 'e,d'
  filter: boolean
}
export interface ChargeSpec {
  meter: number
  price: RefPrice
  /** Used when the meter groups by "d": a price per value, "*" possibly among them. */
  dimensional: Record<string, RefPrice> | undefined
  freeUnits?: string
  minimum?: string
  maximum?: string
}
export interface PlanSpec { charges: ChargeSpec[]; advance?: string; arrears?: string }
export interface CustomerSpec { timeZone: (typeof TIME_ZONES)[number]; plan: number; startFrac: number; snap: boolean }

/** Where a change or cancel takes effect, resolved against the earliest instant the engine allows. */
export type AtSpec =
  | { kind: 'default' }
  | { kind: 'earliest' }
  | { kind: 'inside'; frac: number }
  | { kind: 'boundary' }
  | { kind: 'too-early'; frac: number }

/**
 * An event's timestamp: recent (live); anywhere since before the first start (old: imported when
 * past the lateness window); inside the customer's invoiced periods (late); or at a boundary.
 */
export type When =
  | { kind: 'recent'; frac: number }
  | { kind: 'old'; frac: number }
  | { kind: 'invoiced'; frac: number }
  | { kind: 'boundary'; back: number; deltaMs: number }
export interface EventSpec { customer: number; name: 0 | 1; when: When; properties: Properties; viaImport: boolean }

export type Step = { advance: number } & (
  | { kind: 'events'; events: EventSpec[]; resend: number | undefined }
  | { kind: 'void'; pick: number }
  | { kind: 'amend'; pick: number; properties: Properties }
  | { kind: 'run'; lag: number }
  | { kind: 'change'; customer: number; plan: number; at: AtSpec }
  | { kind: 'cancel'; customer: number; at: AtSpec })

export interface Scenario {
  currency: (typeof CURRENCIES)[number]
  interval: Interval
  anchor: 'calendar' | 'anniversary'
  grace: 'default' | 'PT0S' | 'PT30M'
  /**
   * Set: every plan prices its usage charges in credits at this creditPrice, and customers have
   * no grants, so every credit is overage, invoiced at its period's close.
   */
  creditPrice: string | undefined
  startMs: number
  meters: MeterSpec[]
  plans: PlanSpec[]
  customers: CustomerSpec[]
  steps: Step[]
  /** How far past the last boundary the final run goes, in periods. */
  tail: number
}

// ---- arbitraries ---------------------------------------------------------------------------

/**
 * A share in [0, 1], uniform in steps of 1/10,000. (fc.double draws from the bit patterns of
 * floats, so most draws in [0, 1] would be tiny.)
 */
const share = (max = 1) => fc.integer({ min: 0, max: Math.round(max * 10_000) }).map((n) => n / 10_000)

const decimal = (maxWhole: number, places: number) =>
  fc.tuple(fc.integer({ min: 0, max: maxWhole }), fc.integer({ min: 0, max: 10 ** places - 1 }))
    .map(([w, f]) => (places === 0 ? String(w) : `${w}.${String(f).padStart(places, '0')}`))
const money = fc.oneof(decimal(5, 0), decimal(5, 2), decimal(2, 4))

const tiers: fc.Arbitrary<RefTier[]> = fc.tuple(
  fc.uniqueArray(fc.integer({ min: 1, max: 80 }), { maxLength: 3 }),
  fc.array(fc.tuple(fc.option(money, { nil: undefined }), fc.option(decimal(5, 2), { nil: undefined })), { minLength: 4, maxLength: 4 }),
  fc.boolean(),
).map(([bounds, prices, halves]) => {
  const upTos = [...bounds].sort((a, b) => a - b).map((n) => (halves ? String(n / 2) : String(n)))
  return [...upTos, null].map((upTo, i) => {
    const [unitAmount, flatAmount] = prices[i]!
    return { upTo, ...(unitAmount === undefined && flatAmount === undefined ? { unitAmount: '1' } : {}),
      ...(unitAmount !== undefined ? { unitAmount } : {}), ...(flatAmount !== undefined ? { flatAmount } : {}) }
  })
})

const price: fc.Arbitrary<RefPrice> = fc.oneof(
  fc.record({ model: fc.constant('per_unit' as const), unitAmount: money }),
  fc.record({
    model: fc.constant('package' as const), packageSize: fc.constantFrom('0.5', '1', '2.5', '3', '10'), amount: money,
    round: fc.constantFrom('up' as const, 'down' as const, undefined),
  }).map(({ round, ...p }) => (round === undefined ? p : { ...p, round })),
  fc.record({ model: fc.constant('graduated' as const), tiers }),
  fc.record({ model: fc.constant('volume' as const), tiers }),
)

const dimensionalPrices = fc.tuple(fc.subarray(['a', '5', 'true', 'b']), fc.boolean(), fc.array(price, { minLength: 5, maxLength: 5 }))
  .map(([keys, star, prices]) => Object.fromEntries([...keys, ...(star || keys.length === 0 ? ['*'] : [])].map((k, i) => [k, prices[i]!])))

const charge: fc.Arbitrary<ChargeSpec> = fc.record({
  meter: fc.nat(2),
  price,
  dimensional: fc.option(dimensionalPrices, { nil: undefined, freq: 2 }),
  freeUnits: fc.option(decimal(10, 1), { nil: undefined, freq: 2 }),
  minimum: fc.option(decimal(30, 2), { nil: undefined, freq: 3 }),
  maximum: fc.option(decimal(300, 2), { nil: undefined, freq: 3 }),
})

const flatAmount = fc.oneof(fc.constantFrom('49', '9.99', '0.125', '1000', '0.5', '0'), money)
const plan: fc.Arbitrary<PlanSpec> = fc.record({
  charges: fc.array(charge, { minLength: 1, maxLength: 3 }),
  advance: fc.option(flatAmount, { nil: undefined }),
  arrears: fc.option(flatAmount, { nil: undefined, freq: 3 }),
})

const meter: fc.Arbitrary<MeterSpec> = fc.record({
  event: fc.constantFrom(0 as const, 1 as const),
  aggregation: fc.constantFrom('sum' as const, 'count' as const, 'unique_count' as const, 'max' as const, 'latest' as const),
  groupBy: fc.constantFrom('none' as const, 'd' as const, 'e,d' as const),
  filter: fc.boolean(),
})

const value = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 50 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }).map((n) => n / 4) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }).map((n) => n / 1000) },
  { weight: 1, arbitrary: fc.constantFrom('12.5', '3', '-1', '0.125', 'x', '') },
)
export const properties: fc.Arbitrary<Properties> = fc.record({
  v: value,
  u: fc.constantFrom('a', 'b', 'c', 5, '5', true, null),
  d: fc.constantFrom('a', 'b', 'c', 5, '5', true, null),
  e: fc.constantFrom('x', 'y'),
  ok: fc.boolean(),
}, { requiredKeys: [] })

const when: fc.Arbitrary<When> = fc.oneof(
  { weight: 4, arbitrary: share().map((frac) => ({ kind: 'recent' as const, frac })) },
  { weight: 3, arbitrary: share().map((frac) => ({ kind: 'old' as const, frac })) },
  { weight: 2, arbitrary: share().map((frac) => ({ kind: 'invoiced' as const, frac })) },
  { weight: 3, arbitrary: fc.record({ back: fc.nat(2), deltaMs: fc.constantFrom(-7_200_000, -1_800_000, -60_000, -1, 0, 1) })
    .map(({ back, deltaMs }) => ({ kind: 'boundary' as const, back, deltaMs })) },
)

const at: fc.Arbitrary<AtSpec> = fc.oneof(
  fc.constant({ kind: 'default' as const }),
  fc.constant({ kind: 'earliest' as const }),
  fc.constant({ kind: 'boundary' as const }),
  { weight: 3, arbitrary: share().map((frac) => ({ kind: 'inside' as const, frac })) },
  share().map((frac) => ({ kind: 'too-early' as const, frac })),
)

const advance = fc.oneof({ weight: 3, arbitrary: share(0.15) }, share(0.7))

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    advance, kind: fc.constant('events' as const),
    events: fc.array(fc.record({ customer: fc.nat(3), name: fc.constantFrom(0 as const, 1 as const), when, properties, viaImport: fc.boolean() }), { minLength: 1, maxLength: 12 }),
    resend: fc.option(share(), { nil: undefined, freq: 4 }),
  }) },
  { weight: 1, arbitrary: fc.record({ advance, kind: fc.constant('void' as const), pick: share() }) },
  { weight: 1, arbitrary: fc.record({ advance, kind: fc.constant('amend' as const), pick: share(), properties }) },
  { weight: 4, arbitrary: fc.record({ advance, kind: fc.constant('run' as const), lag: fc.oneof(fc.constant(0), share()) }) },
  { weight: 1, arbitrary: fc.record({ advance, kind: fc.constant('change' as const), customer: fc.nat(3), plan: fc.nat(2), at }) },
  { weight: 1, arbitrary: fc.record({ advance, kind: fc.constant('cancel' as const), customer: fc.nat(3), at }) },
)

/** Clock starts a few days before the 2026 DST changes of Los Angeles, or in between. */
const STARTS = ['2026-03-01T00:00:00Z', '2026-06-10T00:00:00Z', '2026-10-20T00:00:00Z'].map(Date.parse)

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  currency: fc.constantFrom(...CURRENCIES),
  interval: fc.constantFrom<Interval>('day', 'week', 'month'),
  anchor: fc.constantFrom('calendar' as const, 'anniversary' as const),
  grace: fc.constantFrom('default' as const, 'PT0S' as const, 'PT30M' as const),
  creditPrice: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, fc.constantFrom('0.01', '0.125', '2', '0.0003')),
  startMs: fc.tuple(fc.constantFrom(...STARTS), fc.integer({ min: 0, max: 12 * DAY_MS })).map(([s, o]) => s + o),
  meters: fc.array(meter, { minLength: 1, maxLength: 3 }),
  plans: fc.array(plan, { minLength: 1, maxLength: 3 }),
  customers: fc.array(fc.record({ timeZone: fc.constantFrom(...TIME_ZONES), plan: fc.nat(2), startFrac: share(), snap: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  steps: fc.array(step, { minLength: 10, maxLength: 40 }),
  tail: share(),
})

// ---- the configuration a scenario applies ----------------------------------------------------

export interface Built {
  config: Record<string, unknown>
  meters: RefMeter[]
  /** Per plan: its usage charges as the reference rates them, and its flat fees. */
  plans: { key: string; charges: RefCharge[]; advance: string | undefined; arrears: string | undefined }[]
  graceMs: number
  creditPrice: string | undefined
}

export function build(s: Scenario): Built {
  const meters: RefMeter[] = s.meters.map((m, i) => ({
    key: `m${i}`,
    event: EVENT_NAMES[m.event],
    aggregation: m.aggregation,
    ...(m.aggregation === 'count' ? {} : { property: m.aggregation === 'unique_count' ? 'u' : 'v' }),
    ...(m.groupBy === 'none' ? {} : { groupBy: m.groupBy.split(',') }),
    ...(m.filter ? { filter: { ok: [true] } } : {}),
  }))
  const plans = s.plans.map((p, i) => ({
    key: `p${i}`,
    charges: p.charges.map((c, j): RefCharge => {
      const m = meters[c.meter % meters.length]!
      const extras = {
        key: `c${j}`, meter: m.key,
        ...(c.freeUnits !== undefined ? { freeUnits: c.freeUnits } : {}),
        // Not on charges in credits: a minimum over a period without usage is invoiced in credits
        // but deducted from no one (a deduction names its events, and there are none).
        ...(c.minimum !== undefined && s.creditPrice === undefined ? { minimum: c.minimum } : {}),
        ...(c.maximum !== undefined ? { maximum: c.maximum } : {}),
      }
      return c.dimensional !== undefined && m.groupBy !== undefined
        ? { ...extras, model: 'dimensional', dimension: 'd', prices: c.dimensional }
        : { ...extras, ...c.price }
    }),
    advance: p.advance,
    arrears: p.arrears,
  }))
  const config = {
    meters,
    plans: plans.map((p) => ({
      key: p.key, currency: s.currency, interval: s.interval, anchor: s.anchor,
      ...(s.creditPrice === undefined ? {} : { creditPrice: s.creditPrice }),
      charges: [
        ...(s.creditPrice === undefined ? p.charges : p.charges.map((c) => ({ ...c, unit: 'credits' }))),
        ...(p.advance !== undefined ? [{ key: 'base', model: 'flat', amount: p.advance, timing: 'advance' }] : []),
        ...(p.arrears !== undefined ? [{ key: 'support', model: 'flat', amount: p.arrears, timing: 'arrears' }] : []),
      ],
    })),
    ...(s.grace === 'default' ? {} : { billing: { gracePeriod: s.grace } }),
  }
  const graceMs = s.grace === 'default' ? 3_600_000 : s.grace === 'PT0S' ? 0 : 1_800_000
  return { config, meters, plans, graceMs, creditPrice: s.creditPrice }
}
