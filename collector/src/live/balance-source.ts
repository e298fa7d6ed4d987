// Credit balances for live streams: the customer's balance after each commit that may have
// changed it (events, whose credit-priced usage is deducted as they arrive, and credit
// operations). Reading the balance folds every acknowledged event first, so it is never behind.
import type { Store } from '@meterkit/engine'
import type { Clock } from '@meterkit/engine'
import type { Keyed } from './channel.js'
import type { LiveSource } from './hub.js'

/** The event name credit routes report as changed: no meter counts it, the balance reads it. */
export const CREDITS_CHANGED = '\u0000credits'

export class BalanceSource implements LiveSource {
  constructor(private readonly store: Store, private readonly clock: Clock) {}

  async snapshot(tenantId: number, customerId: string, _nowMs: number, emit: (m: Keyed) => void): Promise<void> {
    await this.read(tenantId, customerId, emit)
  }

  async refresh(tenantId: number, customerId: string, _changed: ReadonlySet<string>, _nowMs: number, emit: (m: Keyed) => void): Promise<void> {
    await this.read(tenantId, customerId, emit)
  }

  private async read(tenantId: number, customerId: string, emit: (m: Keyed) => void): Promise<void> {
    const balance = await this.store.credits.balance(tenantId, customerId, this.clock.now())
    // A customer that has never had credits has no balance to show.
    if (balance.grants.length === 0 && balance.balance === '0' && balance.reserved === '0') return
    // Unchanged figures are not sent again (the hub compares fingerprints).
    emit({ key: 'balance', message: { type: 'balance', data: balance }, fingerprint: `${balance.balance}:${balance.available}:${balance.reserved}:${balance.grants.length}` })
  }
}
