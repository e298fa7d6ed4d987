// The working copy an operation edits: copies the state's maps on first write, appends entries
// with their running balance, and hands back the new state and what changed. The input state is
// never touched, so every operation is a pure function of (state, input).
import type { Decimal } from '../decimal.js'
import type { Change, CustomerCredits, EntryType, Grant, LedgerEntry, Reservation } from './ledger.js'

export interface EntryFields {
  type: EntryType
  credits: Decimal
  atMs: number
  grantId?: string
  eventIds?: readonly string[]
  invoiceId?: string
  reservationId?: string
  held?: Decimal
  reason?: string
}

export class Draft {
  /** The operation's time: its atMs, or the ledger's clock when that is later (I6). */
  readonly t: number
  balance: Decimal
  owed: Decimal
  reserved: Decimal
  private nextGrantSeq: number
  private nextEntrySeq: number
  private lastAtMs: number
  private grants?: Map<string, Grant>
  private retiredGrants?: Map<string, Grant>
  private holds?: Map<string, Reservation>
  private closedReservations?: Map<string, Reservation>
  private settlements?: Map<string, Decimal>
  private readonly entries: LedgerEntry[] = []
  private readonly changedGrants = new Map<string, Grant>()
  private readonly changedReservations = new Map<string, Reservation>()

  constructor(private readonly base: CustomerCredits, atMs: number) {
    this.t = Math.max(atMs, base.clockMs)
    this.balance = base.balance
    this.owed = base.owed
    this.reserved = base.reserved
    this.nextGrantSeq = base.nextGrantSeq
    this.nextEntrySeq = base.nextEntrySeq
    this.lastAtMs = base.clockMs
  }

  liveGrants(): ReadonlyMap<string, Grant> {
    return this.grants ?? this.base.grants
  }

  retired(): ReadonlyMap<string, Grant> {
    return this.retiredGrants ?? this.base.retiredGrants
  }

  heldReservations(): ReadonlyMap<string, Reservation> {
    return this.holds ?? this.base.holds
  }

  grant(id: string): Grant | undefined {
    return this.liveGrants().get(id) ?? this.retired().get(id)
  }

  peekGrantSeq(): number {
    return this.nextGrantSeq
  }

  takeGrantSeq(): number {
    return this.nextGrantSeq++
  }

  /** Stores a grant's new form; expired and voided grants move to the retired map. */
  putGrant(g: Grant): void {
    this.grants ??= new Map(this.base.grants)
    if (g.status === 'expired' || g.status === 'voided') {
      this.grants.delete(g.id)
      this.retiredGrants ??= new Map(this.base.retiredGrants)
      this.retiredGrants.set(g.id, g)
    } else {
      this.grants.set(g.id, g)
    }
    this.changedGrants.set(g.id, g)
  }

  /** Stores a reservation's new form; only held ones stay among the holds. */
  putReservation(r: Reservation): void {
    this.holds ??= new Map(this.base.holds)
    if (r.status === 'held') {
      this.holds.set(r.id, r)
    } else {
      this.holds.delete(r.id)
      this.closedReservations ??= new Map(this.base.closedReservations)
      this.closedReservations.set(r.id, r)
    }
    this.changedReservations.set(r.id, r)
  }

  settlement(invoiceId: string): Decimal | undefined {
    return (this.settlements ?? this.base.settlements).get(invoiceId)
  }

  putSettlement(invoiceId: string, credits: Decimal): void {
    this.settlements ??= new Map(this.base.settlements)
    this.settlements.set(invoiceId, credits)
  }

  /** Appends an entry: the next id, the running balance, a time no earlier than the last (I5). */
  post(fields: EntryFields): LedgerEntry {
    this.balance = this.balance.plus(fields.credits)
    this.lastAtMs = Math.max(this.lastAtMs, fields.atMs)
    const entry: LedgerEntry = {
      ...fields,
      ...(fields.eventIds === undefined ? {} : { eventIds: Object.freeze([...fields.eventIds]) }),
      id: `le_${this.nextEntrySeq++}`,
      atMs: this.lastAtMs,
      balanceAfter: this.balance,
    }
    this.entries.push(Object.freeze(entry))
    return entry
  }

  finish(): Change {
    const state: CustomerCredits = {
      clockMs: Math.max(this.t, this.lastAtMs),
      balance: this.balance,
      owed: this.owed,
      reserved: this.reserved,
      nextGrantSeq: this.nextGrantSeq,
      nextEntrySeq: this.nextEntrySeq,
      grants: this.grants ?? this.base.grants,
      retiredGrants: this.retiredGrants ?? this.base.retiredGrants,
      holds: this.holds ?? this.base.holds,
      closedReservations: this.closedReservations ?? this.base.closedReservations,
      settlements: this.settlements ?? this.base.settlements,
    }
    return {
      state,
      entries: this.entries,
      grants: [...this.changedGrants.values()],
      reservations: [...this.changedReservations.values()],
    }
  }
}
