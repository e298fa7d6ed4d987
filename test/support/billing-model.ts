// The model side of the billing model check: what the test did (events with their versions,
// subscriptions with their phases and cancels, billing runs), on a logical clock, and what each
// invoice should hold, worked out with the reference in reference-billing.ts. Written from
// decision 0005: an invoice per boundary closes the period before it (usage and arrears fees per
// phase, the new phase's advance fee for the rest of the period, the unused part of the advance
// fee billed at the period's start credited) and opens the next one (advance fees).
import type { Built, Properties, Scenario } from './billing-scenario.js'
import {
  type Fx, type RefEvent, type RefLine, type Rule, type Span, fx, fxMul, naturalPeriod, prorationFraction, rate, roundTo, usage,
} from './reference-billing.js'

export interface ModelEvent {
  id: string
  name: string
  customer: string
  ts: number
  /** Logical time it was stored, and its versions: properties, or null once voided. */
  storedAt: number
  versions: { at: number; properties: Properties | null }[]
  payload: Record<string, unknown>
}

export interface Phase { id: number; startMs: number; plan: number }
export interface Timeline { startMs: number; phases: Phase[]; endMs: number | null }

/** An invoice as the model expects it: the boundary, the timeline as it was when computed, and when. */
export interface InvoiceRecord {
  boundary: number
  prev: number | null
  final: boolean
  /** Logical time of the run that (last) computed it. */
  at: number
  timeline: Timeline
  /** False for an opening invoice with no advance fee: the engine writes none. */
  exists: boolean
  /** An ended subscription's invoice of adjustments alone (a period of no length at `boundary`). */
  adjustmentOnly?: boolean
}

export interface ModelSub {
  id: string
  customer: string
  rule: Rule
  timeline: Timeline
  billedThrough: number | null
  records: Map<number, InvoiceRecord>
  /** Logical time of the run that issued the latest closing invoice: what later corrections can reach. */
  lastClosingAt: number | undefined
  /** Logical time an event of a period already final was first stored, voided or amended (a late change). */
  lateChangeAt: number | undefined
}

export interface ExpectedFlat { chargeKey: string; kind: 'flat' | 'proration'; startMs: number; endMs: number; amount: Fx }
export interface ExpectedUsage { chargeKey: string; line: RefLine; startMs: number; endMs: number; events: RefEvent[] }

const copy = (t: Timeline): Timeline => ({ startMs: t.startMs, endMs: t.endMs, phases: t.phases.map((p) => ({ ...p })) })

export function phaseAt(t: Timeline, ms: number): Phase {
  let found = t.phases[0]!
  for (const p of t.phases) if (p.startMs <= ms) found = p
  return found
}

/** The phases in effect over [from, to), clipped. */
export function segments(t: Timeline, fromMs: number, toMs: number): { phase: Phase; fromMs: number; toMs: number }[] {
  return t.phases.flatMap((phase, i) => {
    const end = t.phases[i + 1]?.startMs ?? t.endMs ?? Number.POSITIVE_INFINITY
    const a = Math.max(fromMs, phase.startMs)
    const z = Math.min(toMs, end)
    return a < z ? [{ phase, fromMs: a, toMs: z }] : []
  })
}

export class BillingModel {
  tick = 0
  readonly events = new Map<string, ModelEvent>()
  readonly subs: ModelSub[] = []
  private phaseIds = 0

  constructor(readonly scenario: Scenario, readonly built: Built) {}

  addSubscription(id: string, customer: string, timeZone: string, startMs: number, plan: number): ModelSub {
    const sub: ModelSub = {
      id, customer, billedThrough: null, records: new Map(), lastClosingAt: undefined, lateChangeAt: undefined,
      rule: { interval: this.scenario.interval, anchor: this.scenario.anchor, timeZone, anchorMs: startMs },
      timeline: { startMs, endMs: null, phases: [{ id: this.phaseIds++, startMs, plan }] },
    }
    this.subs.push(sub)
    return sub
  }

  /** The next boundary after `ms`: the natural period's end, or the end of service. */
  boundaryAfter(sub: ModelSub, t: Timeline, ms: number): number | undefined {
    if (t.endMs !== null && ms >= t.endMs) return undefined
    const b = naturalPeriod(sub.rule, ms).endMs
    return t.endMs !== null && t.endMs < b ? t.endMs : b
  }

  /** The boundaries up to `untilMs` under the current timeline, the start first. */
  boundaries(sub: ModelSub, untilMs: number): number[] {
    const out = [sub.timeline.startMs]
    for (let b = this.boundaryAfter(sub, sub.timeline, out[0]!); b !== undefined && b <= untilMs; b = this.boundaryAfter(sub, sub.timeline, b)) out.push(b)
    return out
  }

  /** The earliest `at` a change or cancel may take: the current period's start, never inside an invoiced period. */
  earliestChange(sub: ModelSub, nowMs: number): number {
    const t = sub.timeline
    const ms = Math.min(nowMs, (t.endMs ?? Number.POSITIVE_INFINITY) - 1)
    const current = nowMs < t.startMs ? t.startMs : Math.max(naturalPeriod(sub.rule, ms).startMs, t.startMs)
    return Math.max(current, sub.billedThrough ?? t.startMs)
  }

  change(sub: ModelSub, plan: number, atMs: number): void {
    const t = sub.timeline
    t.phases = [...t.phases.filter((p) => p.startMs < atMs), { id: this.phaseIds++, startMs: atMs, plan }]
  }

  cancel(sub: ModelSub, atMs: number): void {
    const t = sub.timeline
    t.phases = t.phases.filter((p) => p.startMs <= atMs)
    t.endMs = atMs
  }

  /** A billing run at `untilMs`: finalizes boundaries past the grace period, drafts the one inside it. */
  run(untilMs: number, at: number): { finalized: number; drafts: number } {
    let finalized = 0
    let drafts = 0
    for (const sub of this.subs) {
      for (;;) {
        const opening = sub.billedThrough === null
        const b = opening ? sub.timeline.startMs : this.boundaryAfter(sub, sub.timeline, sub.billedThrough!)
        if (b === undefined || b > untilMs) break
        const final = opening || b + this.built.graceMs <= untilMs
        const exists = !opening || this.built.plans[phaseAt(sub.timeline, b).plan]!.advance !== undefined
        sub.records.set(b, { boundary: b, prev: sub.billedThrough, final, at, timeline: copy(sub.timeline), exists })
        if (exists && final) finalized++
        else if (exists) drafts++
        if (!final) break
        if (!opening) sub.lastClosingAt = at
        sub.billedThrough = b
      }
      // Billed through its end: what changed its periods since goes on an adjustment invoice.
      const t = sub.timeline
      if (t.endMs !== null && sub.billedThrough === t.endMs && sub.lastClosingAt !== undefined && sub.lastClosingAt < at) {
        if (this.adjustmentDue(sub, sub.lastClosingAt, at)) {
          const last = Math.max(t.endMs, ...[...sub.records.values()].filter((r) => r.final).map((r) => r.boundary))
          const b = Math.max(untilMs, last + 1)
          sub.records.set(b, { boundary: b, prev: b, final: true, at, timeline: copy(t), exists: true, adjustmentOnly: true })
          finalized++
        }
        sub.lastClosingAt = at
      }
    }
    return { finalized, drafts }
  }

  /** Whether a rounded usage amount of a closed period differs between the events as of `before` and as of `at`. */
  private adjustmentDue(sub: ModelSub, before: number, at: number): boolean {
    const digits = { USD: 2, JPY: 0, KWD: 3 }[this.scenario.currency]
    const sums = (asOf: number) => {
      const out = new Map<string, Fx>()
      for (const rec of sub.records.values()) {
        if (!rec.final || rec.prev === null || rec.adjustmentOnly) continue
        for (const e of this.usageLines(sub, sub.timeline, rec.prev, rec.boundary, asOf)) {
          out.set(`${e.chargeKey} ${e.line.dimension ?? ''} ${e.startMs} ${e.endMs}`, roundTo(e.line.amount, digits))
        }
      }
      return out
    }
    const a = sums(before)
    const z = sums(at)
    return [...new Set([...a.keys(), ...z.keys()])].some((k) => (a.get(k) ?? 0n) !== (z.get(k) ?? 0n))
  }

  /** The customer's active events in [from, to) as they stood at logical time `at`. */
  eventsAsOf(customer: string, at: number, fromMs: number, toMs: number): RefEvent[] {
    const out: RefEvent[] = []
    for (const e of this.events.values()) {
      if (e.customer !== customer || e.ts < fromMs || e.ts >= toMs || e.storedAt >= at) continue
      const version = e.versions.filter((v) => v.at < at).at(-1)!
      if (version.properties !== null) out.push({ id: e.id, name: e.name, ts: e.ts, properties: version.properties })
    }
    return out
  }

  /** Usage lines of [from, to) under timeline `t`, rated from the events as of `at`. */
  usageLines(sub: ModelSub, t: Timeline, fromMs: number, toMs: number, at: number): ExpectedUsage[] {
    return segments(t, fromMs, toMs).flatMap((seg) => {
      const events = this.eventsAsOf(sub.customer, at, seg.fromMs, seg.toMs)
      return this.built.plans[seg.phase.plan]!.charges.flatMap((charge) => {
        const meter = this.built.meters.find((m) => m.key === charge.meter)!
        const u = usage(meter, events, charge.model === 'dimensional' ? charge.dimension : undefined)
        return rate(charge, u).map((line) => ({
          chargeKey: charge.key, line, startMs: seg.fromMs, endMs: seg.toMs,
          events: line.dimension === undefined ? u.events : u.byDimension.get(line.dimension)!.events,
        }))
      })
    })
  }

  /** The flat fee lines of an invoice: closing (arrears, new phases' advance, credit of the unused advance) and opening. */
  flatLines(sub: ModelSub, rec: InvoiceRecord): ExpectedFlat[] {
    const digits = { USD: 2, JPY: 0, KWD: 3 }[this.scenario.currency]
    const plans = this.built.plans
    const out: ExpectedFlat[] = []
    const line = (chargeKey: string, amount: string, sign: 1n | -1n, a: number, z: number) => {
      const natural: Span = naturalPeriod(sub.rule, a)
      const whole = natural.startMs === a && natural.endMs === z
      const exact = whole ? fx(amount) : fxMul(fx(amount), prorationFraction(natural, a, z))
      out.push({ chargeKey, kind: whole && sign === 1n ? 'flat' : 'proration', startMs: a, endMs: z, amount: roundTo(sign * exact, digits) })
    }
    if (rec.adjustmentOnly) return out
    const t = rec.timeline
    if (rec.prev !== null) {
      const s = rec.prev
      // What the invoice at s billed in advance: the plan then in effect, up to the boundary then known.
      const billedAt = sub.records.get(s)!
      const billed = phaseAt(billedAt.timeline, s)
      const billedEnd = this.boundaryAfter(sub, billedAt.timeline, s)!
      const segs = segments(t, s, rec.boundary)
      for (const seg of segs) {
        const plan = plans[seg.phase.plan]!
        if (plan.arrears !== undefined) line('support', plan.arrears, 1n, seg.fromMs, seg.toMs)
        if (seg.phase.id !== billed.id && plan.advance !== undefined) line('base', plan.advance, 1n, seg.fromMs, seg.toMs)
      }
      // The billed plan was in effect from s until its phase ended (not at all if replaced at s).
      const usedUntil = segs[0] !== undefined && segs[0].phase.id === billed.id ? segs[0].toMs : s
      const fee = plans[billed.plan]!.advance
      if (fee !== undefined && billedEnd > usedUntil) line('base', fee, -1n, usedUntil, billedEnd)
    }
    const next = this.boundaryAfter(sub, t, rec.boundary)
    const fee = plans[phaseAt(t, rec.boundary).plan]!.advance
    if (next !== undefined && fee !== undefined) line('base', fee, 1n, rec.boundary, next)
    return out
  }
}
