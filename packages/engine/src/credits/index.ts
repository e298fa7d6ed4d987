// Credits: a pure ledger per customer (grants, burn-down, expiry, holds, refunds, rollover). Every
// operation takes the state and an instant and returns the new state and the entries it wrote.
export {
  DEFAULT_HOLD_TTL_MS, DEFAULT_PRIORITY, MAX_PRIORITY, emptyCredits, findGrant, findReservation, parseCredits,
  type Change, type CreditsInput, type CustomerCredits, type EntryType, type Failure, type Grant, type GrantKind,
  type GrantStatus, type LedgerEntry, type Outcome, type Reservation, type ReservationStatus,
} from './ledger.js'
export { advance } from './expiry.js'
export { addGrant, voidGrant, type GrantCode, type GrantInput, type GrantOutcome, type VoidCode, type VoidInput } from './grants.js'
export { burnOrder, compareBurnOrder, deduct, type DeductCode, type DeductInput } from './burn.js'
export { refund, type RefundCode, type RefundInput } from './refund.js'
export {
  hold, release, settle, type HoldCode, type HoldInput, type HoldOutcome, type ReleaseOutcome, type SettleInput,
  type SettleOutcome,
} from './holds.js'
export { renew, type RenewCode, type RenewInput, type RenewOutcome } from './recurring.js'
export { overageDue, settleOverage, type SettleOverageCode, type SettleOverageInput } from './overage.js'
export { balanceView, entryView, type BalanceView, type GrantView, type LedgerEntryView } from './view.js'
export { verifyCredits } from './verify.js'
export { deserializeCredits, serializeCredits } from './serialize.js'
