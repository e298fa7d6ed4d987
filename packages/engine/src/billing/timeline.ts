// A subscription's timeline: which plan is in effect when, and where its billing periods end.
// Phases start at the subscription's start and at each plan change; a change to a plan with
// another interval or anchor restarts the period sequence at the change, as a new subscription
// would; a change to a plan with the same rule keeps the periods and prorates inside one.
import type { MeterConfig, PlanConfig } from '@meterkit/protocol'
import { type Period, type PeriodRule, nextBoundary, periodAt } from './periods.js'

export interface Phase {
  startMs: number
  plan: PlanConfig
  /** The meters the plan's charges read, as they were when the phase began. */
  meters: MeterConfig[]
  /** The anniversary anchor of the period sequence this phase belongs to. */
  anchorMs: number
  /**
   * Put in at a boundary after that boundary's invoice was final, so the period it starts was
   * billed in advance under the plan it replaced: the period's closing invoice credits that fee.
   */
  replacesBilled?: boolean
}

export interface Timeline {
  timeZone: string
  startMs: number
  /** The instant service ends (cancel), or null while it runs. */
  endMs: number | null
  /** Sorted by start; the first starts at `startMs`. */
  phases: Phase[]
}

export interface Segment {
  phase: Phase
  fromMs: number
  toMs: number
}

export function ruleOf(phase: Phase, timeZone: string): PeriodRule {
  return { interval: phase.plan.interval, anchor: phase.plan.anchor ?? 'calendar', timeZone, anchorMs: phase.anchorMs }
}

/** Whether two plans share a period rule, so a change between them keeps the periods. */
export function samePeriods(a: PlanConfig, b: PlanConfig): boolean {
  return a.interval === b.interval && (a.anchor ?? 'calendar') === (b.anchor ?? 'calendar')
}

export function phaseAt(t: Timeline, ms: number): Phase {
  let found = t.phases[0]!
  for (const p of t.phases) if (p.startMs <= ms) found = p
  return found
}

function phaseEnd(t: Timeline, phase: Phase): number {
  const i = t.phases.indexOf(phase)
  return t.phases[i + 1]?.startMs ?? t.endMs ?? Number.POSITIVE_INFINITY
}

/** The natural billing period of the phase in effect at `ms` (not cut by changes or a cancel). */
export function naturalPeriod(t: Timeline, ms: number): Period {
  return periodAt(ruleOf(phaseAt(t, ms), t.timeZone), ms)
}

/**
 * The first boundary after `ms`: the natural period end, or earlier a phase start that restarts
 * the periods, or the end of service. Undefined once service has ended.
 */
export function boundaryAfter(t: Timeline, ms: number): number | undefined {
  if (t.endMs !== null && ms >= t.endMs) return undefined
  const phase = phaseAt(t, ms)
  let b = nextBoundary(ruleOf(phase, t.timeZone), ms)
  for (const p of t.phases) {
    if (p.startMs > ms && p.startMs < b && p.anchorMs === p.startMs) {
      b = p.startMs
      break
    }
  }
  if (t.endMs !== null && t.endMs < b) b = t.endMs
  return b
}

/** The phases in effect over [fromMs, toMs), each clipped to the range. */
export function segments(t: Timeline, fromMs: number, toMs: number): Segment[] {
  const out: Segment[] = []
  for (const phase of t.phases) {
    const a = Math.max(fromMs, phase.startMs)
    const z = Math.min(toMs, phaseEnd(t, phase))
    if (a < z) out.push({ phase, fromMs: a, toMs: z })
  }
  return out
}
