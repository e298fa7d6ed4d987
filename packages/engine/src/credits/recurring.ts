// Recurring grants: each period gets a fresh grant, and what the previous period's grants left
// when they expired rolls over, up to `rollover.max`, as a grant of its own.
import { addDuration, parseDuration } from '@meterkit/protocol'
import type { Decimal } from '../decimal.js'
import { ZERO } from '../decimal.js'
import { draftAt } from './expiry.js'
import { createGrant, type GrantSpec } from './grants.js'
import type { CreditsInput, CustomerCredits, Grant, Outcome } from './ledger.js'
import { DEFAULT_PRIORITY, MAX_PRIORITY, assertTime, fail, findGrant, parseCredits } from './ledger.js'

export interface RenewInput {
  /** Names the series: a plan grant's key, or the id of a grant made with `recurring`. */
  series: string
  credits: CreditsInput
  priority?: number
  /** Counted from the period's start. Default: the grant expires at the period's end. */
  expiresAfter?: string
  recurring?: string
  rollover?: { max: CreditsInput }
  source?: string
  periodStartMs: number
  periodEndMs: number
}

export type RenewCode =
  | 'invalid_credits' | 'invalid_priority' | 'invalid_duration' | 'invalid_expiry' | 'invalid_period' | 'period_not_started'

export type RenewOutcome = Outcome<{ grant: Grant; rollover?: Grant; duplicate: boolean }, RenewCode>

/**
 * Starts a period of a series: the grant `<series>@<periodStart ISO>`, effective at periodStart.
 *
 * Rollover: the series' earlier grants that expired exactly at their period's end (the usual
 * case; the expiry entry has already taken their leftover) and have not rolled over yet are
 * summed; min(sum, rollover.max, 0 when absent) comes back as the grant `<id>/rollover` (kind
 * `rollover`, a `grant` entry), with the new grant's priority and expiry. It is created first, so
 * it burns first. The leftover is counted once: −leftover by the expiry entry, +rolled by the
 * rollover grant. A grant that expired before its period ended does not roll over.
 *
 * Renewing needs the period to have started (the old grants expire at that instant); renewing a
 * period again returns the first outcome. A late renewal counts its grants from the renewal.
 */
export function renew(state: CustomerCredits, input: RenewInput, atMs: number): RenewOutcome {
  assertTime(atMs)
  const { periodStartMs, periodEndMs } = input
  if (!Number.isSafeInteger(periodStartMs) || !Number.isSafeInteger(periodEndMs) || periodEndMs <= periodStartMs) {
    return fail('invalid_period', 'a period must end after it starts')
  }
  const id = `${input.series}@${new Date(periodStartMs).toISOString()}`
  const existing = findGrant(state, id)
  if (existing !== undefined) {
    const rolled = findGrant(state, `${id}/rollover`)
    return { ok: true, state, entries: [], grants: [], reservations: [], grant: existing, ...(rolled === undefined ? {} : { rollover: rolled }), duplicate: true }
  }
  if (Math.max(atMs, state.clockMs) < periodStartMs) return fail('period_not_started', 'a period is renewed once it has started')
  const credits = parseCredits(input.credits)
  if (credits === undefined || credits.eq(0)) return fail('invalid_credits', 'credits must be a decimal greater than 0')
  const max = input.rollover === undefined ? ZERO : parseCredits(input.rollover.max)
  if (max === undefined) return fail('invalid_credits', 'rollover.max must be a non-negative decimal')
  const priority = input.priority ?? DEFAULT_PRIORITY
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    return fail('invalid_priority', `priority must be an integer from 0 to ${MAX_PRIORITY}`)
  }
  const after = input.expiresAfter === undefined ? undefined : parseDuration(input.expiresAfter)
  if (input.expiresAfter !== undefined && after === undefined) return fail('invalid_duration', 'expiresAfter must be an ISO 8601 duration')
  if (input.recurring !== undefined && parseDuration(input.recurring) === undefined) return fail('invalid_duration', 'recurring must be an ISO 8601 duration')
  const expiresAtMs = after === undefined ? periodEndMs : addDuration(periodStartMs, after)
  if (expiresAtMs <= periodStartMs) return fail('invalid_expiry', 'a grant must expire after it becomes effective')

  const d = draftAt(state, atMs)
  const sources = [...d.retired().values()]
    .filter((g) => g.series === input.series && g.status === 'expired' && g.rolledOver !== true &&
      g.periodEndMs !== undefined && g.expiresAtMs === g.periodEndMs && g.periodEndMs <= periodStartMs)
    .sort((a, b) => a.seq - b.seq)
  let leftover: Decimal = ZERO
  for (const g of sources) {
    leftover = leftover.plus(g.remaining)
    d.putGrant({ ...g, rolledOver: true })
  }
  const rolled = leftover.lt(max) ? leftover : max
  const common: Omit<GrantSpec, 'id' | 'kind' | 'credits'> = {
    priority, effectiveAtMs: periodStartMs, expiresAtMs, series: input.series, periodStartMs, periodEndMs,
  }
  const rollover = rolled.gt(0)
    ? createGrant(d, { ...common, id: `${id}/rollover`, kind: 'rollover', credits: rolled, source: `rollover from ${sources.map((g) => g.id).join(', ')}` })
    : undefined
  const grant = createGrant(d, {
    ...common, id, kind: 'grant', credits,
    ...(input.recurring === undefined ? {} : { recurring: input.recurring }),
    ...(input.rollover === undefined ? {} : { rollover: { max } }),
    ...(input.source === undefined ? {} : { source: input.source }),
  })
  return { ok: true, ...d.finish(), grant, ...(rollover === undefined ? {} : { rollover }), duplicate: false }
}
