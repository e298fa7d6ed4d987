// Network chaos: a retrying client sends events with fixed ids through the fault proxy (dropped
// requests, lost replies after commit, duplicated requests, delays, resets) to a real collector
// process. Audit: lost = 0, duplicated = 0, unexpected = 0 (CONTRACT §7.1, §7.3); and, with
// credit-priced meters configured before the ingest, usage and the credit ledger of every
// customer: a batch committed, its reply lost and resent is still deducted once per event
// (§7.5, §7.6; test/support/ledger-audit.ts).
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHAOS_LONG, type SentEvent, audit, chaosSeeds, describeAudit, makeEvents, pause, readStored, removeDir, stableTimestamp, withSeed } from '../support/chaos.js'
import { Processes, killCollector, stopCollector } from '../support/collector-control.js'
import { startCollector, tempDir } from '../support/collector-process.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { type LedgerAudit, auditLedger, describeLedgerAudit, setUpLedger } from '../support/ledger-audit.js'
import { deliver, newDeliveryLog } from '../support/retrying-sender.js'

const SEEDS = chaosSeeds('network', 3, 20)
const EVENTS = CHAOS_LONG ? 20_000 : 4_000
const RATES = { dropRequest: 0.08, dropResponse: 0.12, duplicate: 0.1, delay: 0.1, reset: 0.1 }
const MIXED_SEEDS = chaosSeeds('network', 1, 5)
const MIXED_EVENTS = CHAOS_LONG ? 40_000 : 8_000
const MIXED_KILLS = CHAOS_LONG ? 5 : 2
const DAY = 86_400_000

/** Events with credit-priced meters, subscriptions and grants set up (straight to the collector, not through the proxy). */
async function eventsWithLedger(collectorUrl: string, prefix: string, count: number) {
  const timestamp = stableTimestamp()
  const events = makeEvents(prefix, count, timestamp)
  const range = { from: new Date(Date.parse(timestamp) - DAY).toISOString(), to: new Date(Date.parse(timestamp) + DAY).toISOString() }
  await setUpLedger(collectorUrl, new Set(events.map((e) => e.customerId)), range.from)
  return { events, range }
}

function expectLedgerClean(ledger: LedgerAudit, events: readonly SentEvent[]): void {
  expect(ledger.lost, describeLedgerAudit(ledger)).toEqual([])
  expect(ledger.duplicated, describeLedgerAudit(ledger)).toEqual([])
  expect(ledger.unexpected, describeLedgerAudit(ledger)).toEqual([])
  expect(ledger.mismatches, describeLedgerAudit(ledger)).toEqual([])
  expect(ledger.events).toBe(events.length)
}

describe('network chaos through the fault proxy', () => {
  it.each(SEEDS)('seed %i: every acknowledged event stored once, nothing else; deducted once', async (seed) => {
    await withSeed('network', seed, async () => {
      const dir = tempDir('meterkit-chaos-net-')
      const procs = new Processes()
      let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined
      try {
        const dbPath = join(dir, 'meterkit.db')
        const collector = procs.add(await startCollector(dbPath))
        proxy = await startFaultProxy({ upstream: collector.url, seed, rates: RATES })
        const { events, range } = await eventsWithLedger(collector.url, `net-${seed}`, EVENTS)
        const url = proxy.url
        const log = await deliver(events, {
          target: () => url,
          batchSize: 50,
          concurrency: 4,
          maxAttempts: 40,
          deadlineMs: CHAOS_LONG ? 300_000 : 40_000,
        })
        const ledger = await auditLedger(collector.url, events.filter((e) => log.acknowledged.has(e.id)), range)
        expect(await stopCollector(collector)).toBe(0)

        const result = audit(new Map(events.map((e) => [e.id, e])), log.acknowledged, readStored(dbPath))
        console.log(`[chaos network] seed ${seed}: ${describeAudit(result)}; ${describeLedgerAudit(ledger)}; requests ${proxy.stats.requests} ` +
          `(${JSON.stringify(proxy.stats)}), answered duplicate ${log.duplicates.size}, retries ${log.retries}`)
        expect(result.lost, describeAudit(result)).toEqual([])
        expect(result.duplicated, describeAudit(result)).toEqual([])
        expect(result.unexpected, describeAudit(result)).toEqual([])
        expect([...log.refused]).toEqual([])
        expect(log.undelivered).toEqual([])
        expect(log.acknowledged.size).toBe(EVENTS)
        expect(result.stored).toBe(EVENTS)
        // The faults that make this test worth running did happen, and were survived.
        expect(proxy.stats.dropResponse).toBeGreaterThan(0)
        expect(proxy.stats.duplicate).toBeGreaterThan(0)
        expect(proxy.stats.reset).toBeGreaterThan(0)
        expect(log.duplicates.size).toBeGreaterThan(0)
        expectLedgerClean(ledger, events)
      } finally {
        await proxy?.close()
        await procs.killAll()
        removeDir(dir)
      }
    })
  }, CHAOS_LONG ? 600_000 : 60_000)

  it.each(MIXED_SEEDS)(`seed %i: network faults and ${MIXED_KILLS} kill -9s together, the proxy following each restart`, async (seed) => {
    await withSeed('network', seed, async (rng) => {
      const dir = tempDir('meterkit-chaos-net-')
      const procs = new Processes()
      let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined
      try {
        const dbPath = join(dir, 'meterkit.db')
        let collector = procs.add(await startCollector(dbPath))
        proxy = await startFaultProxy({ upstream: collector.url, seed, rates: RATES })
        const { events, range } = await eventsWithLedger(collector.url, `mix-${seed}`, MIXED_EVENTS)
        const url = proxy.url
        let done = false
        const log = newDeliveryLog()
        const delivery = deliver(events, {
          target: () => url,
          batchSize: 100,
          concurrency: 4,
          maxAttempts: 200,
          deadlineMs: CHAOS_LONG ? 300_000 : 40_000,
        }, log).finally(() => {
          done = true
        })
        const deadline = Date.now() + (CHAOS_LONG ? 300_000 : 40_000)
        // While the collector is down the proxy resets every request: an outage, as clients see it.
        const points = Array.from({ length: MIXED_KILLS }, () => 0.1 + rng.next() * 0.8).sort((a, b) => a - b)
        for (const point of points) {
          while (!done && log.acknowledged.size < point * MIXED_EVENTS) {
            if (Date.now() > deadline) throw new Error('no progress')
            await pause(2)
          }
          await pause(rng.int(0, 20))
          await killCollector(collector)
          proxy.setUpstream(undefined)
          collector = procs.add(await startCollector(dbPath))
          proxy.setUpstream(collector.url)
        }
        await delivery
        const ledger = await auditLedger(collector.url, events.filter((e) => log.acknowledged.has(e.id)), range)
        expect(await stopCollector(collector)).toBe(0)

        const result = audit(new Map(events.map((e) => [e.id, e])), log.acknowledged, readStored(dbPath))
        console.log(`[chaos network] mixed seed ${seed}: ${MIXED_KILLS} kills; ${describeAudit(result)}; ${describeLedgerAudit(ledger)}; requests ${proxy.stats.requests} ` +
          `(${JSON.stringify(proxy.stats)}), answered duplicate ${log.duplicates.size}, retries ${log.retries}`)
        expect(result.lost, describeAudit(result)).toEqual([])
        expect(result.duplicated, describeAudit(result)).toEqual([])
        expect(result.unexpected, describeAudit(result)).toEqual([])
        expect([...log.refused]).toEqual([])
        expect(log.undelivered).toEqual([])
        expect(result.stored).toBe(MIXED_EVENTS)
        expect(proxy.stats.upstreamErrors).toBeGreaterThan(0)
        expectLedgerClean(ledger, events)
      } finally {
        await proxy?.close()
        await procs.killAll()
        removeDir(dir)
      }
    })
  }, CHAOS_LONG ? 600_000 : 60_000)
})
