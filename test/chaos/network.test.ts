// Network chaos: a retrying client sends events with fixed ids through the fault proxy (dropped
// requests, lost replies after commit, duplicated requests, delays, resets) to a real collector
// process. Audit: lost = 0, duplicated = 0, unexpected = 0 (CONTRACT §7.1, §7.3).
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHAOS_LONG, audit, chaosSeeds, describeAudit, makeEvents, readStored, removeDir, withSeed } from '../support/chaos.js'
import { Processes, stopCollector } from '../support/collector-control.js'
import { startCollector, tempDir } from '../support/collector-process.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { deliver } from '../support/retrying-sender.js'

const SEEDS = chaosSeeds('network', 3, 20)
const EVENTS = CHAOS_LONG ? 20_000 : 4_000
const RATES = { dropRequest: 0.08, dropResponse: 0.12, duplicate: 0.1, delay: 0.1, reset: 0.1 }

describe('network chaos through the fault proxy', () => {
  it.each(SEEDS)('seed %i: every acknowledged event stored once, nothing else', async (seed) => {
    await withSeed('network', seed, async () => {
      const dir = tempDir('meterkit-chaos-net-')
      const procs = new Processes()
      let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined
      try {
        const dbPath = join(dir, 'meterkit.db')
        const collector = procs.add(await startCollector(dbPath))
        proxy = await startFaultProxy({ upstream: collector.url, seed, rates: RATES })
        const events = makeEvents(`net-${seed}`, EVENTS)
        const url = proxy.url
        const log = await deliver(events, {
          target: () => url,
          batchSize: 50,
          concurrency: 4,
          maxAttempts: 40,
          deadlineMs: CHAOS_LONG ? 300_000 : 40_000,
        })
        expect(await stopCollector(collector)).toBe(0)

        const result = audit(new Map(events.map((e) => [e.id, e])), log.acknowledged, readStored(dbPath))
        console.log(`[chaos network] seed ${seed}: ${describeAudit(result)}; requests ${proxy.stats.requests} ` +
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
      } finally {
        await proxy?.close()
        await procs.killAll()
        removeDir(dir)
      }
    })
  }, CHAOS_LONG ? 600_000 : 60_000)
})
