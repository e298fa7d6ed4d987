// Closing lines after a plan change at the very start of an invoiced period, and the events an
// adjustment line names; cases the billing model check (test/chaos/billing-model.test.ts) found.
import type { PlanConfig } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { ZERO } from '../decimal.js'
import { type InvoiceLine, adjustmentLines, closingLines, openingLines } from './lines.js'
import type { Phase, Timeline } from './timeline.js'

const t = (s: string) => Date.parse(s)
const NOV = t('2026-11-01T00:00:00Z')
const DEC = t('2026-12-01T00:00:00Z')
const JAN = t('2027-01-01T00:00:00Z')

const plan = (key: string, amount: string): PlanConfig => ({
  key, currency: 'USD', interval: 'month', anchor: 'calendar', charges: [{ key: 'base', model: 'flat', amount, timing: 'advance' }],
})
const phase = (startMs: number, p: PlanConfig, replacesBilled?: boolean): Phase => ({ startMs, plan: p, meters: [], anchorMs: NOV, ...(replacesBilled ? { replacesBilled } : {}) })
const timeline = (...phases: Phase[]): Timeline => ({ timeZone: 'UTC', startMs: NOV, endMs: null, phases })
const noUsage = () => ({ quantity: ZERO, seqs: [] })
const flat = (lines: InvoiceLine[]) => lines.map((l) => [l.kind, l.amount, new Date(l.periodStartMs).toISOString().slice(0, 10), new Date(l.periodEndMs).toISOString().slice(0, 10)])

describe('a change at the start of a period whose advance fee is invoiced', () => {
  const pro = plan('pro', '49')
  const team = plan('team', '99')
  const scale = plan('scale', '300')
  // December's invoice billed pro's fee in advance; the change to team comes after it, dated Dec 1.
  const billed = openingLines(timeline(phase(NOV, pro)), 'USD', DEC)

  it('credits the fee billed in full and charges the new plan for the period', () => {
    const after = timeline(phase(NOV, pro), phase(DEC, team, true))
    expect(flat(closingLines(after, 'USD', DEC, JAN, billed, noUsage))).toEqual([
      ['flat', '99.00', '2026-12-01', '2027-01-01'],
      ['proration', '-49.00', '2026-12-01', '2027-01-01'],
    ])
  })

  it('credits the plan billed, not the one that replaced it, when another change follows', () => {
    // team from Dec 1 (after the invoice), scale from Dec 16: 15.5 of 31 days each.
    const after = timeline(phase(NOV, pro), phase(DEC, team, true), phase(t('2026-12-16T12:00:00Z'), scale))
    expect(flat(closingLines(after, 'USD', DEC, JAN, billed, noUsage))).toEqual([
      ['proration', '49.50', '2026-12-01', '2026-12-16'],
      ['proration', '150.00', '2026-12-16', '2027-01-01'],
      ['proration', '-49.00', '2026-12-01', '2027-01-01'],
    ])
  })

  it('adds nothing when the change was in place before the invoice billed the period', () => {
    const scheduled = timeline(phase(NOV, pro), phase(DEC, team))
    expect(closingLines(scheduled, 'USD', DEC, JAN, openingLines(scheduled, 'USD', DEC), noUsage)).toEqual([])
  })
})

describe('adjustment lines name the events behind them', () => {
  const line = (l: Partial<InvoiceLine>): InvoiceLine => ({
    chargeKey: 'render', kind: 'usage', description: 'render', quantity: '0', amount: '0.00', periodStartMs: NOV, periodEndMs: DEC, eventSeqs: [], ...l,
  })
  const LATE_TS = t('2026-11-30T23:00:00Z')

  it('a minimum line that a late event in another value removed names that event', () => {
    const billed = [line({ dimension: '"4k"', quantity: '1', amount: '1.00', eventSeqs: [1] }), line({ amount: '9.00', eventSeqs: [1] })]
    const recomputed = [line({ dimension: '"4k"', quantity: '1', amount: '1.00', eventSeqs: [1] }), line({ dimension: '"720p"', quantity: '20', amount: '20.00', eventSeqs: [7] })]
    const adjustments = adjustmentLines(recomputed, billed, new Map([[7, LATE_TS]]), 'USD')
    expect(adjustments.map((l) => [l.dimension ?? null, l.amount, l.eventSeqs])).toEqual([['"720p"', '20.00', [7]], [null, '-9.00', [7]]])
  })

  it('a line whose changed event is on no line of it names the changed events of its span', () => {
    // 3 free units, 1 each. Late event 3 (2 units) cost nothing, so no line named it; late event 5
    // (4 units) brought 3.00, naming 5. Now event 3 is voided: the charge falls to 1.00.
    const billed = [line({ amount: '0.00', eventSeqs: [] }), line({ kind: 'adjustment', quantity: '3', amount: '3.00', eventSeqs: [5] })]
    const recomputed = [line({ quantity: '1', amount: '1.00', eventSeqs: [5] })]
    const adjustments = adjustmentLines(recomputed, billed, new Map([[3, LATE_TS], [12, JAN]]), 'USD')
    expect(adjustments.map((l) => [l.amount, l.eventSeqs])).toEqual([['-2.00', [3]]])
  })
})
