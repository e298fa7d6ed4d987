// Checks a customer's credit state against the invariants of ledger.ts; an empty list means it
// holds. Tests run it after every operation; a store may run it when it loads a customer.
import { ZERO } from '../decimal.js'
import type { CustomerCredits, LedgerEntry } from './ledger.js'

/** Problems found, in words. `entries`, when given, is the customer's whole ledger (I1, I5). */
export function verifyCredits(state: CustomerCredits, entries?: readonly LedgerEntry[]): string[] {
  const problems: string[] = []
  let live = ZERO
  for (const g of state.grants.values()) {
    if (g.status !== 'pending' && g.status !== 'active') problems.push(`grant ${g.id} is ${g.status} but listed as live`)
    if (g.status === 'active') live = live.plus(g.remaining)
    if (g.status === 'pending' && g.effectiveAtMs <= state.clockMs) problems.push(`grant ${g.id} is pending past its effectiveAt`)
    if (g.expiresAtMs !== null && g.expiresAtMs <= state.clockMs) problems.push(`grant ${g.id} is live past its expiresAt`)
  }
  for (const g of [...state.grants.values(), ...state.retiredGrants.values()]) {
    if (g.remaining.lt(0) || g.remaining.gt(g.credits)) problems.push(`grant ${g.id}: remaining ${g.remaining} outside 0…${g.credits}`)
  }
  for (const g of state.retiredGrants.values()) {
    if (g.status !== 'expired' && g.status !== 'voided') problems.push(`grant ${g.id} is ${g.status} but listed as retired`)
  }
  if (state.owed.lt(0)) problems.push(`owed ${state.owed} is negative`)
  if (!state.balance.eq(live.minus(state.owed))) problems.push(`I2: balance ${state.balance} ≠ Σ remaining ${live} − owed ${state.owed}`)
  let reserved = ZERO
  for (const r of state.holds.values()) {
    if (r.status !== 'held') problems.push(`reservation ${r.id} is ${r.status} but listed as held`)
    if (r.expiresAtMs <= state.clockMs) problems.push(`reservation ${r.id} is held past its expiry`)
    reserved = reserved.plus(r.credits)
  }
  if (!state.reserved.eq(reserved)) problems.push(`I4: reserved ${state.reserved} ≠ Σ held ${reserved}`)
  if (entries !== undefined) problems.push(...verifyEntries(state, entries))
  return problems
}

function verifyEntries(state: CustomerCredits, entries: readonly LedgerEntry[]): string[] {
  const problems: string[] = []
  let sum = ZERO
  let lastAtMs = Number.MIN_SAFE_INTEGER
  entries.forEach((e, i) => {
    sum = sum.plus(e.credits)
    if (e.id !== `le_${i + 1}`) problems.push(`I5: entry ${i + 1} has id ${e.id}`)
    if (e.atMs < lastAtMs) problems.push(`I5: entry ${e.id} at ${e.atMs} is earlier than the one before`)
    lastAtMs = e.atMs
    if (!e.balanceAfter.eq(sum)) problems.push(`I1: entry ${e.id} balanceAfter ${e.balanceAfter} ≠ running sum ${sum}`)
    if (e.type === 'deduction' && (e.eventIds === undefined || e.eventIds.length === 0)) problems.push(`I8: deduction ${e.id} names no event`)
    if ((e.type === 'hold' || e.type === 'release') && !e.credits.eq(0)) problems.push(`${e.type} ${e.id} moves the balance`)
  })
  if (!sum.eq(state.balance)) problems.push(`I1: Σ entries ${sum} ≠ balance ${state.balance}`)
  if (state.nextEntrySeq !== entries.length + 1) problems.push(`I5: ${entries.length} entries but next id le_${state.nextEntrySeq}`)
  return problems
}
