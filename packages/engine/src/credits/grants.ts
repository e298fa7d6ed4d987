// Granting credits and voiding grants. A grant is counted from its effectiveAt (a grant entry
// written then) and its id counts once (invariants I7, I9).
import { addDuration, parseDuration } from '@meterkit/protocol'
import type { Decimal } from '../decimal.js'
import { ZERO } from '../decimal.js'
import type { Draft } from './draft.js'
import { activateGrant, draftAt, expireGrant } from './expiry.js'
import type { CreditsInput, CustomerCredits, Failure, Grant, GrantKind, Outcome } from './ledger.js'
import { DEFAULT_PRIORITY, MAX_PRIORITY, assertTime, fail, findGrant, parseCredits } from './ledger.js'

export interface GrantInput {
  id: string
  credits: CreditsInput
  /** Default DEFAULT_PRIORITY (100). */
  priority?: number
  /** Default: the operation's time. */
  effectiveAtMs?: number
  /**
   * At most one of expiresAtMs and expiresAfter (counted from effectiveAt). Neither: the grant
   * never expires, except a recurring one, which lasts its period.
   */
  expiresAtMs?: number | null
  expiresAfter?: string
  /** ISO 8601 duration: the grant is the first of a series renewed every period (recurring.ts). */
  recurring?: string
  rollover?: { max: CreditsInput }
  source?: string
  kind?: 'grant' | 'top_up'
}

export type GrantCode =
  | 'invalid_id' | 'invalid_credits' | 'invalid_priority' | 'invalid_duration' | 'invalid_expiry' | 'grant_expired'

export type GrantOutcome = Outcome<{ grant: Grant; duplicate: boolean }, GrantCode>

/**
 * Adds a grant. The same id again returns the existing grant (whatever its state) and writes
 * nothing. A grant whose expiry is already past is refused (`grant_expired`).
 */
export function addGrant(state: CustomerCredits, input: GrantInput, atMs: number): GrantOutcome {
  assertTime(atMs)
  if (input.id === '') return fail('invalid_id', 'a grant needs an id')
  const existing = findGrant(state, input.id)
  if (existing !== undefined) return unchanged(state, existing)
  const spec = grantSpec(input, Math.max(atMs, state.clockMs))
  if (!('id' in spec)) return spec
  const d = draftAt(state, atMs)
  const grant = createGrant(d, spec)
  return { ok: true, ...d.finish(), grant, duplicate: false }
}

/** A grant's fields, checked; seq, status and createdAt are filled in by createGrant. */
export type GrantSpec = Omit<Grant, 'seq' | 'status' | 'createdAtMs' | 'remaining'>

function grantSpec(input: GrantInput, nowMs: number): GrantSpec | Failure<GrantCode> {
  const credits = parseCredits(input.credits)
  if (credits === undefined || credits.eq(0)) return fail('invalid_credits', 'credits must be a decimal greater than 0')
  const priority = input.priority ?? DEFAULT_PRIORITY
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    return fail('invalid_priority', `priority must be an integer from 0 to ${MAX_PRIORITY}`)
  }
  const effectiveAtMs = input.effectiveAtMs ?? nowMs
  assertTime(effectiveAtMs)
  const period = input.recurring === undefined ? undefined : parseDuration(input.recurring)
  const after = input.expiresAfter === undefined ? undefined : parseDuration(input.expiresAfter)
  if (period === undefined && input.recurring !== undefined) return fail('invalid_duration', 'recurring must be an ISO 8601 duration such as P1M')
  if (after === undefined && input.expiresAfter !== undefined) return fail('invalid_duration', 'expiresAfter must be an ISO 8601 duration such as P30D')
  if (after !== undefined && input.expiresAtMs != null) return fail('invalid_expiry', 'give expiresAt or expiresAfter, not both')
  const periodEndMs = period === undefined ? undefined : addDuration(effectiveAtMs, period)
  const expiresAtMs = after !== undefined ? addDuration(effectiveAtMs, after) : (input.expiresAtMs ?? periodEndMs ?? null)
  if (expiresAtMs !== null && expiresAtMs <= effectiveAtMs) return fail('invalid_expiry', 'a grant must expire after it becomes effective')
  if (expiresAtMs !== null && expiresAtMs <= nowMs) return fail('grant_expired', 'the grant would already have expired')
  let rollover: { max: Decimal } | undefined
  if (input.rollover !== undefined) {
    const max = parseCredits(input.rollover.max)
    if (max === undefined) return fail('invalid_credits', 'rollover.max must be a non-negative decimal')
    rollover = { max }
  }
  const kind: GrantKind = input.kind ?? 'grant'
  return {
    id: input.id, kind, credits, priority, effectiveAtMs, expiresAtMs,
    ...(input.recurring === undefined ? {} : { recurring: input.recurring, series: input.id, periodStartMs: effectiveAtMs, periodEndMs }),
    ...(rollover === undefined ? {} : { rollover }),
    ...(input.source === undefined ? {} : { source: input.source }),
  }
}

/**
 * Creates a grant at d.t: counted at once when already effective, pending otherwise. `named`
 * puts event ids on its entry (a refund's adjustment grant). A renewal
 * that catches up on a past period may create a grant whose expiry has passed: it is counted in
 * and expired at once, so its credits can still roll over.
 */
export function createGrant(d: Draft, spec: GrantSpec, named?: { eventIds: readonly string[] }): Grant {
  let g: Grant = { ...spec, remaining: spec.credits, createdAtMs: d.t, seq: d.takeGrantSeq(), status: 'pending' }
  d.putGrant(g)
  if (g.effectiveAtMs <= d.t) {
    activateGrant(d, g, d.t, named?.eventIds)
    g = d.grant(g.id)!
    if (g.expiresAtMs !== null && g.expiresAtMs <= d.t) {
      expireGrant(d, g, d.t)
      g = d.grant(g.id)!
    }
  }
  return g
}

export interface VoidInput {
  grantId: string
  reason?: string
}

export type VoidCode = 'grant_not_found' | 'grant_expired'

/**
 * Voids a grant: a void entry takes its remaining credits (written even when 0, as the record of
 * the void); a grant not yet effective was never counted and leaves without an entry. Voiding a
 * voided grant again changes nothing.
 */
export function voidGrant(state: CustomerCredits, input: VoidInput, atMs: number): Outcome<{ grant: Grant }, VoidCode> {
  assertTime(atMs)
  const { grantId, reason } = input
  const known = findGrant(state, grantId)
  if (known === undefined) return fail('grant_not_found', `no grant ${grantId}`)
  if (known.status === 'voided') return unchanged(state, known)
  const d = draftAt(state, atMs)
  const g = d.grant(grantId)!
  if (g.status === 'expired') return fail('grant_expired', `grant ${grantId} has expired`)
  const taken = g.status === 'active' ? g.remaining : ZERO
  d.putGrant({ ...g, status: 'voided', voidedAtMs: d.t, remaining: taken })
  if (g.status === 'active') d.post({ type: 'void', credits: taken.neg(), atMs: d.t, grantId, ...(reason === undefined ? {} : { reason }) })
  const grant = d.grant(grantId)!
  return { ok: true, ...d.finish(), grant }
}

function unchanged(state: CustomerCredits, grant: Grant): { ok: true; state: CustomerCredits; entries: []; grants: []; reservations: []; grant: Grant; duplicate: true } {
  return { ok: true, state, entries: [], grants: [], reservations: [], grant, duplicate: true }
}
