// Events that change an invoiced period: late arrivals (imports, events inside the lateness
// window after their period closed) found by a pass over the events stored since the last pass,
// and corrections (void, amend) noted as they happen. The subscription's next invoice adjusts.
import type { Tx } from '../store/storage.js'

/** Notes every event stored since the last pass (up to `maxSeq`) that fell into an invoiced period after its invoice. */
export async function scanLateEvents(tx: Tx, maxSeq: number): Promise<number> {
  const from = await tx.billingChanges.scannedThrough()
  if (maxSeq <= from) return 0
  const periods = new Map<string, { startMs: number; endMs: number; cutoffSeq: number }[]>()
  const late: [number, string, number, number][] = []
  for (const e of await tx.events.arrivals(from, maxSeq)) {
    const key = `${e.tenantId}\u0000${e.customerId}`
    let covered = periods.get(key)
    if (covered === undefined) {
      covered = await tx.invoices.finalPeriods(e.tenantId, e.customerId)
      periods.set(key, covered)
    }
    if (covered.some((p) => e.timestampMs >= p.startMs && e.timestampMs < p.endMs && e.seq > p.cutoffSeq)) late.push([e.tenantId, e.customerId, e.timestampMs, e.seq])
  }
  for (const [tenantId, customerId, ts, seq] of late) await tx.billingChanges.add(tenantId, customerId, ts, seq)
  await tx.billingChanges.setScannedThrough(maxSeq)
  return late.length
}

/**
 * A void or amend of an event: noted when a final invoice covers the event's time. A period not
 * invoiced yet reads the corrected event when it closes; noting it anyway would make a later
 * adjustment of that period name an event it had already billed correctly.
 */
export async function noteCorrection(tx: Tx, tenantId: number, customerId: string, ts: number, seq: number): Promise<void> {
  const periods = await tx.invoices.finalPeriods(tenantId, customerId)
  if (periods.some((p) => p.startMs <= ts && ts < p.endMs)) await tx.billingChanges.add(tenantId, customerId, ts, seq)
}
