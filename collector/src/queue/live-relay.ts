// Live streams across processes: each commit's (customer, event name) pairs go out on the core
// subject `<stream>.live`, and every collector hands the pairs it hears to its own hub, so a
// browser on collector A sees usage that a worker applied, or that collector B committed.
// Core NATS, not JetStream: a notice missed while disconnected only delays a figure, which the
// next notice or a reconnecting stream's snapshot brings up to date.
import type { NatsConnection, Subscription } from '@nats-io/transport-node'

export type LiveChange = { customerId: string; event: string }

interface Notice {
  t: number
  c: [string, string][]
}

export class LiveRelay {
  private subscription: Subscription | undefined

  constructor(private readonly nc: NatsConnection, private readonly subject: string) {}

  /** Tells the other processes that these events of the tenant were committed. */
  publish(tenantId: number, changes: Iterable<LiveChange>): void {
    const seen = new Set<string>()
    const pairs: [string, string][] = []
    for (const c of changes) {
      const key = `${c.customerId}\u0000${c.event}`
      if (seen.has(key)) continue
      seen.add(key)
      pairs.push([c.customerId, c.event])
    }
    if (pairs.length === 0 || this.nc.isClosed()) return
    const notice: Notice = { t: tenantId, c: pairs }
    this.nc.publish(this.subject, JSON.stringify(notice))
  }

  /** Hands every notice heard to `received`, until `close`. */
  subscribe(received: (tenantId: number, changes: LiveChange[]) => void): void {
    const sub = this.nc.subscribe(this.subject)
    this.subscription = sub
    void (async () => {
      for await (const m of sub) {
        let notice: Notice
        try {
          notice = m.json<Notice>()
        } catch {
          continue
        }
        if (!Number.isSafeInteger(notice.t) || !Array.isArray(notice.c)) continue
        received(notice.t, notice.c.filter((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string').map(([customerId, event]) => ({ customerId, event })))
      }
    })()
  }

  close(): void {
    this.subscription?.unsubscribe()
  }
}
