// SDK network chaos: the Node SDK (`@meterkit/node`, with its disk buffer) tracks events with
// fixed ids through the seeded fault proxy (dropped requests, lost replies after commit,
// duplicated requests, delays, resets, and a short outage) into a real collector process.
// Whatever the first client leaves in its buffer is replayed by a second client on the same
// folder. Audit: lost = 0, duplicated = 0, unexpected = 0 (CONTRACT §2, §7.1, §7.3).
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Meterkit, type MeterkitStats } from '../../packages/node/src/index.js'
import { CHAOS_LONG, audit, chaosSeeds, describeAudit, makeEvents, pause, readStored, removeDir, withSeed, type SentEvent } from '../support/chaos.js'
import { Processes, stopCollector } from '../support/collector-control.js'
import { ADMIN_KEY, startCollector, tempDir } from '../support/collector-process.js'
import { startFaultProxy } from '../support/fault-proxy.js'

const SEEDS = chaosSeeds('sdk-network', 3, 10)
const EVENTS = CHAOS_LONG ? 20_000 : 3_000
const RATES = { dropRequest: 0.08, dropResponse: 0.12, duplicate: 0.1, delay: 0.1, reset: 0.1 }
const FLUSH_POINTS = 4
const OUTAGE_AT = Math.floor(EVENTS / 2)
const OUTAGE_MS = 300
/** The last events are tracked during a second outage that outlasts the first client. */
const TAIL = Math.floor(EVENTS / 10)
const DEADLINE_MS = CHAOS_LONG ? 300_000 : 25_000

/** Polls `done` until it holds or the deadline passes; answers whether it held. */
async function until(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done()) {
    if (Date.now() > deadline) return false
    await pause(20)
  }
  return true
}

describe('Node SDK network chaos through the fault proxy', () => {
  it.each(SEEDS)('seed %i: every tracked event stored once through the SDK and its disk buffer', async (seed) => {
    await withSeed('sdk-network', seed, async () => {
      const dir = tempDir('meterkit-chaos-sdknet-')
      const procs = new Processes()
      let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined
      const clients: Meterkit[] = []
      try {
        const dbPath = join(dir, 'meterkit.db')
        const bufferDir = join(dir, 'buffer')
        const collector = procs.add(await startCollector(dbPath))
        proxy = await startFaultProxy({ upstream: collector.url, seed, rates: RATES })
        const events = makeEvents(`sdknet-${seed}`, EVENTS)
        const dropped: string[] = []
        const errors = new Map<string, number>()
        const client = () => {
          const mk = new Meterkit({
            endpoint: proxy!.url,
            apiKey: ADMIN_KEY,
            bufferDir,
            timeoutMs: 1500,
            flushAt: 100,
            flushIntervalMs: 200,
            onDrop: (dropEvents, reason) => dropped.push(...dropEvents.map((e) => `${e.id} (${reason})`)),
            onError: (err) => errors.set(err.code, (errors.get(err.code) ?? 0) + 1),
          })
          clients.push(mk)
          return mk
        }
        const started = Date.now()
        const deadline = started + DEADLINE_MS
        const track = (mk: Meterkit, e: SentEvent) => {
          const id = mk.track({ id: e.id, event: e.event, customerId: e.customerId, timestamp: e.timestamp, properties: e.properties })
          expect(id).toBe(e.id)
        }

        // First client: track everything, flushing at a few points, with an outage midway.
        const first = client()
        let outage = 0
        for (let i = 0; i < EVENTS - TAIL; i++) {
          if (i === OUTAGE_AT) {
            proxy.setUpstream(undefined)
            outage = Date.now()
          }
          track(first, events[i]!)
          if ((i + 1) % Math.floor(EVENTS / FLUSH_POINTS) === 0) await first.flush()
          if (outage !== 0 && i > OUTAGE_AT && Date.now() - outage >= OUTAGE_MS) {
            proxy.setUpstream(collector.url)
            outage = 0
          }
          if (i % 100 === 99) await pause(1)
        }
        if (outage !== 0) {
          await pause(Math.max(0, OUTAGE_MS - (Date.now() - outage)))
          proxy.setUpstream(collector.url)
        }
        await first.flush() // everything acknowledged or durably buffered
        const flushedMs = Date.now() - started
        // Let the running client replay its buffer for a while.
        await until(() => first.stats().acknowledged + dropped.length >= EVENTS - TAIL, started + DEADLINE_MS / 2)
        // The tail goes out during a second outage, and the first client stops before it ends:
        // those events are left in the buffer for the next client.
        proxy.setUpstream(undefined)
        for (let i = EVENTS - TAIL; i < EVENTS; i++) track(first, events[i]!)
        await first.flush()
        await first.shutdown({ timeoutMs: 2_000 })
        const s1: MeterkitStats = first.stats()
        proxy.setUpstream(collector.url)

        // Second client on the same folder: replays whatever the first left in the buffer.
        const second = client()
        await pause(300) // its buffer recovers the segments on disk
        const replayed = await until(() => {
          const s = second.stats()
          return s.buffered === 0 && s.inFlight === 0 && s.acknowledged >= s1.buffered
        }, deadline)
        await second.shutdown({ timeoutMs: 5_000 })
        const s2: MeterkitStats = second.stats()
        const elapsedMs = Date.now() - started
        expect(await stopCollector(collector)).toBe(0)

        const acknowledged = new Set(events.map((e) => e.id))
        const result = audit(new Map(events.map((e) => [e.id, e])), acknowledged, readStored(dbPath))
        console.log(`[chaos sdk-network] seed ${seed}: ${describeAudit(result)}; ${elapsedMs} ms (flushed in ${flushedMs} ms); ` +
          `requests ${proxy.stats.requests} (${JSON.stringify(proxy.stats)}); ` +
          `first client ${JSON.stringify(s1)}; replay client ${JSON.stringify(s2)}; errors ${JSON.stringify(Object.fromEntries(errors))}`)
        expect(replayed, `replay client did not drain the buffer: ${JSON.stringify(second.stats())}`).toBe(true)
        expect(dropped, 'events given up through onDrop').toEqual([])
        expect(result.lost, describeAudit(result)).toEqual([])
        expect(result.duplicated, describeAudit(result)).toEqual([])
        expect(result.unexpected, describeAudit(result)).toEqual([])
        expect(result.stored).toBe(EVENTS)
        // The SDK's own accounting: every tracked event was acknowledged by the first client or
        // left in the buffer for the second, which acknowledged all of it.
        expect(s1.tracked).toBe(EVENTS)
        expect(s1.rejected + s2.rejected).toBe(0)
        expect(s1.dropped + s2.dropped).toBe(0)
        expect(s1.acknowledged + s1.buffered).toBe(EVENTS)
        expect(s2.buffered).toBe(0)
        expect(s1.buffered).toBeGreaterThanOrEqual(TAIL)
        expect(s2.acknowledged).toBeGreaterThanOrEqual(s1.buffered)
        expect(s1.acknowledged + s2.acknowledged).toBeGreaterThanOrEqual(EVENTS)
        // The faults that make this test worth running did happen, and were survived.
        expect(proxy.stats.dropResponse).toBeGreaterThan(0)
        expect(proxy.stats.duplicate).toBeGreaterThan(0)
        expect(proxy.stats.reset).toBeGreaterThan(0)
        expect(proxy.stats.upstreamErrors).toBeGreaterThan(0) // the outage
        expect(s1.duplicates + s2.duplicates).toBeGreaterThan(0)
        expect(s1.retried + s2.retried).toBeGreaterThan(0)
      } finally {
        await Promise.allSettled(clients.map((mk) => mk.shutdown({ timeoutMs: 1_000 })))
        await proxy?.close()
        await procs.killAll()
        removeDir(dir)
      }
    })
  }, CHAOS_LONG ? 600_000 : 60_000)
})
