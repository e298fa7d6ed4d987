// The lines of one invoice, as pure functions of a subscription's timeline and its usage.
// An invoice at boundary b closes the period [s, b) (usage, arrears flat fees, prorations of
// changes and cancels) and opens [b, next) (advance flat fees). Each line is rounded once.
import type Big from 'big.js'
import type { ChargeConfig, PlanConfig } from '@meterkit/protocol'
import { ZERO, decimal } from '../decimal.js'
import { type ChargeUsage, type UsageCharge, formatMoney, rateCharge, roundMoney } from '../rating/index.js'
import { prorate } from './proration.js'
import { type Segment, type Timeline, boundaryAfter, naturalPeriod, phaseAt, segments } from './timeline.js'

export type LineKind = 'flat' | 'usage' | 'proration' | 'overage' | 'top_up' | 'adjustment'

export interface InvoiceLine {
  chargeKey: string
  kind: LineKind
  description: string
  /** Units on the line: metered units, credits for an overage, 1 for a flat fee. */
  quantity: string
  /** Money, rounded once to the currency's minor unit. */
  amount: string
  /** For charges priced in credits: the credits the usage cost (full precision). */
  credits?: string
  periodStartMs: number
  periodEndMs: number
  /** A dimensional charge's dimension value (its JSON form). */
  dimension?: string
  /** Whether the line bills a flat fee in advance (a later change or cancel credits it back). */
  advance?: boolean
  /** Storage sequence numbers of the source events (usage and adjustment lines). */
  eventSeqs?: number[]
}

/** Usage of one charge over a segment, with the events behind it. */
export interface SourcedUsage extends ChargeUsage {
  seqs: number[]
  /** Dimensional charges: the events behind each dimension value (JSON form). */
  seqsByDimension?: Map<string, number[]>
}

export type UsageSource = (segment: Segment, charge: UsageCharge) => SourcedUsage

type FlatCharge = Extract<ChargeConfig, { model: 'flat' }>

function flatCharges(plan: PlanConfig, timing: 'advance' | 'arrears'): FlatCharge[] {
  return plan.charges.filter((c): c is FlatCharge => c.model === 'flat' && (c.timing ?? 'advance') === timing)
}

export function usageCharges(plan: PlanConfig): UsageCharge[] {
  return plan.charges.filter((c): c is UsageCharge => c.model !== 'flat')
}

function label(plan: PlanConfig, charge: { key: string; description?: string }): string {
  return `${plan.name ?? plan.key} · ${charge.description ?? charge.key}`
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** A flat fee over [a, z): the whole fee when that is its natural period, else prorated. */
function flatLine(t: Timeline, currency: string, charge: FlatCharge, a: number, z: number, sign: 1 | -1, note: string): InvoiceLine {
  const plan = phaseAt(t, a).plan
  const natural = naturalPeriod(t, a)
  const whole = natural.startMs === a && natural.endMs === z
  const exact = whole ? decimal(charge.amount) : prorate(decimal(charge.amount), natural, a, z)
  return {
    chargeKey: charge.key,
    kind: whole && sign === 1 ? 'flat' : 'proration',
    description: whole && sign === 1 ? label(plan, charge) : `${note} ${label(plan, charge)} (${day(a)} – ${day(z)})`,
    quantity: '1',
    amount: formatMoney(roundMoney(sign === 1 ? exact : exact.times(-1), currency), currency),
    periodStartMs: a,
    periodEndMs: z,
  }
}

/** Usage lines of one segment: one per usage charge (dimensional: per dimension value). */
export function usageLines(segment: Segment, currency: string, usage: UsageSource): InvoiceLine[] {
  const plan = segment.phase.plan
  const lines: InvoiceLine[] = []
  for (const charge of usageCharges(plan)) {
    const sourced = usage(segment, charge)
    for (const rated of rateCharge(charge, sourced)) {
      const inCredits = charge.unit === 'credits'
      const seqs = rated.dimensionValue !== undefined && sourced.seqsByDimension
        ? sourced.seqsByDimension.get(rated.dimensionValue) ?? []
        : sourced.seqs
      lines.push({
        chargeKey: charge.key,
        kind: 'usage',
        description: `${plan.name ?? plan.key} · ${rated.description}`,
        quantity: rated.quantity.toString(),
        amount: inCredits ? formatMoney(ZERO, currency) : formatMoney(roundMoney(rated.amount, currency), currency),
        ...(inCredits ? { credits: rated.amount.toString() } : {}),
        periodStartMs: segment.fromMs,
        periodEndMs: segment.toMs,
        ...(rated.dimensionValue !== undefined ? { dimension: rated.dimensionValue } : {}),
        eventSeqs: seqs,
      })
    }
  }
  return lines
}

/**
 * Lines closing [s, b): usage and arrears fees of each phase in effect, the unused part of
 * advance fees billed at s that a change or cancel cut short (credited), and the advance fees of
 * plans that began inside the period (charged for their part of it). A phase that replaced, at s
 * itself, the plan whose advance fees the invoice at s billed counts as beginning inside the
 * period: those fees are credited in full and it pays its own.
 */
export function closingLines(t: Timeline, currency: string, s: number, b: number, billedAdvance: InvoiceLine[], usage: UsageSource): InvoiceLine[] {
  const lines: InvoiceLine[] = []
  const segs = segments(t, s, b)
  const replacedAtStart = segs[0]?.phase.startMs === s && segs[0].phase.replacesBilled === true
  for (const seg of segs) {
    lines.push(...usageLines(seg, currency, usage))
    for (const charge of flatCharges(seg.phase.plan, 'arrears')) lines.push(flatLine(t, currency, charge, seg.fromMs, seg.toMs, 1, 'Time on'))
    if (seg.fromMs > s || replacedAtStart) {
      for (const charge of flatCharges(seg.phase.plan, 'advance')) lines.push(flatLine(t, currency, charge, seg.fromMs, seg.toMs, 1, 'Remaining time on'))
    }
  }
  // Advance fees billed at s ran to their line's end; credit what service did not use.
  const firstEnd = replacedAtStart ? s : segs[0]?.toMs ?? s
  for (const line of billedAdvance) {
    if (!line.advance || line.periodEndMs <= firstEnd) continue
    if (replacedAtStart) {
      // Not a moment of it was used, and the plan that billed it is no longer in the timeline.
      const { advance: _billedAhead, ...billed } = line
      lines.push({ ...billed, kind: 'proration', description: `Unused: ${line.description}`, amount: formatMoney(decimal(line.amount).times(-1), currency) })
      continue
    }
    const charge = flatCharges(phaseAt(t, line.periodStartMs).plan, 'advance').find((c) => c.key === line.chargeKey)
    if (charge === undefined) continue
    lines.push(flatLine(t, currency, charge, Math.max(firstEnd, line.periodStartMs), line.periodEndMs, -1, 'Unused time on'))
  }
  return lines
}

/** Advance fees for the period that starts at b (cut short by a known cancel or restart). */
export function openingLines(t: Timeline, currency: string, b: number): InvoiceLine[] {
  const next = boundaryAfter(t, b)
  if (next === undefined) return []
  const plan = phaseAt(t, b).plan
  return flatCharges(plan, 'advance').map((charge) => ({ ...flatLine(t, currency, charge, b, next, 1, 'Time on'), advance: true }))
}

export interface Totals {
  subtotal: string
  total: string
}

/** Invoice totals: the exact sum of the rounded lines. */
export function totals(lines: InvoiceLine[], currency: string): Totals {
  const sum = lines.reduce((acc: Big, l) => acc.plus(l.amount), ZERO)
  const text = formatMoney(sum, currency)
  return { subtotal: text, total: text }
}

const lineKey = (l: InvoiceLine) => `${l.chargeKey}\u0000${l.dimension ?? ''}\u0000${l.periodStartMs}\u0000${l.periodEndMs}`

/**
 * Adjustment lines for a period already invoiced: for each charge (and dimension value) the
 * rounded amount it comes to now, minus what its lines and earlier adjustments billed. Each names
 * the period it corrects and the late or corrected events behind it (`changed`: seq → timestamp):
 * those among its own events, then or now. A line can move although none of the events its lines
 * name changed: a dimensional charge's minimum or maximum line, a value whose share of the free
 * units moved, or a charge whose earlier changes left its amount (and so its lines) as they were.
 * Such a line names the changed events of its span.
 */
export function adjustmentLines(recomputed: InvoiceLine[], billed: InvoiceLine[], changed: ReadonlyMap<number, number>, currency: string): InvoiceLine[] {
  const before = new Map<string, { amount: Big; credits: Big; quantity: Big; seqs: number[] }>()
  for (const l of billed) {
    const k = lineKey(l)
    const b = before.get(k) ?? { amount: ZERO, credits: ZERO, quantity: ZERO, seqs: [] }
    before.set(k, {
      amount: b.amount.plus(l.amount),
      credits: b.credits.plus(l.credits ?? '0'),
      quantity: b.quantity.plus(l.quantity),
      seqs: [...b.seqs, ...(l.eventSeqs ?? [])],
    })
  }
  const out: InvoiceLine[] = []
  const seen = new Set<string>()
  const emit = (template: InvoiceLine, now: { amount: Big; credits: Big; quantity: Big; seqs: number[] }) => {
    const k = lineKey(template)
    seen.add(k)
    const was = before.get(k) ?? { amount: ZERO, credits: ZERO, quantity: ZERO, seqs: [] }
    const amount = now.amount.minus(was.amount)
    const credits = now.credits.minus(was.credits)
    if (amount.eq(0) && credits.eq(0)) return
    let own = [...now.seqs, ...was.seqs].filter((s) => changed.has(s))
    if (own.length === 0) own = [...changed].filter(([, ts]) => ts >= template.periodStartMs && ts < template.periodEndMs).map(([seq]) => seq)
    const seqs = [...new Set(own)].sort((a, b) => a - b)
    out.push({
      chargeKey: template.chargeKey,
      kind: 'adjustment',
      description: `Adjustment for ${day(template.periodStartMs)} – ${day(template.periodEndMs)}: ${template.description.replace(/^Adjustment for [^:]*: /, '')}`,
      quantity: now.quantity.minus(was.quantity).toString(),
      amount: formatMoney(amount, currency),
      ...(credits.eq(0) ? {} : { credits: credits.toString() }),
      periodStartMs: template.periodStartMs,
      periodEndMs: template.periodEndMs,
      ...(template.dimension !== undefined ? { dimension: template.dimension } : {}),
      eventSeqs: seqs,
    })
  }
  for (const l of recomputed) {
    emit(l, { amount: decimal(l.amount), credits: decimal(l.credits ?? '0'), quantity: decimal(l.quantity), seqs: l.eventSeqs ?? [] })
  }
  // Charges that billed something before and come to nothing now (every event voided).
  for (const l of billed) {
    if (!seen.has(lineKey(l))) emit(l, { amount: ZERO, credits: ZERO, quantity: ZERO, seqs: [] })
  }
  return out
}
