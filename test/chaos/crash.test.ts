// Crash chaos: kill -9 the collector at seeded instants during a large ingest, several times a
// run, restart it on the same database each time. After every kill, before the restart, every
// event acknowledged so far is in the database file, and the credit ledger in the file is
// consistent with its watermark; in the end every sent event is stored exactly once with the
// content sent, the database passes integrity_check, reads by customer agree with the file, and
// usage and the credit ledger of every customer agree with figures computed from the
// acknowledged events (CONTRACT §7.1, §7.3, §7.5, §7.6; test/support/ledger-audit.ts).
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { CHAOS_LONG, audit, chaosSeeds, describeAudit, makeEvents, pause, readStored, removeDir, stableTimestamp, withSeed } from '../support/chaos.js'
import { Processes, killCollector, stopCollector } from '../support/collector-control.js'
import { ADMIN_KEY, type CollectorProcess, startCollector, tempDir } from '../support/collector-process.js'
import { auditLedger, describeLedgerAudit, ledgerAtKill, readDuringIngest, setUpLedger } from '../support/ledger-audit.js'
import { deliver, newDeliveryLog } from '../support/retrying-sender.js'

const SEEDS = chaosSeeds('crash', 2, 10)
const KILLS = CHAOS_LONG ? 8 : 3
const EVENTS = CHAOS_LONG ? 200_000 : 40_000
const DAY = 86_400_000

function integrity(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

async function countByCustomer(url: string, customerId: string): Promise<number> {
  let n = 0
  let cursor: string | null = null
  for (let page = 0; page < 1000; page++) {
    const q = `customerId=${customerId}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`
    const res = await fetch(`${url}/v1/events?${q}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { data: unknown[]; nextCursor: string | null }
    n += body.data.length
    cursor = body.nextCursor
    if (cursor === null) return n
  }
  throw new Error('too many pages')
}

describe('collector crash chaos (kill -9 at seeded instants)', () => {
  it.each(SEEDS)(`seed %i: ${KILLS} kills during ingest, acknowledged ⊆ stored, each once; usage and ledger exact`, async (seed) => {
    await withSeed('crash', seed, async (rng) => {
      const dir = tempDir('meterkit-chaos-crash-')
      const procs = new Processes()
      const dbPath = join(dir, 'meterkit.db')
      try {
        let current: CollectorProcess = procs.add(await startCollector(dbPath))
        let url = current.url
        let down = false
        const timestamp = stableTimestamp()
        const events = makeEvents(`crash-${seed}`, EVENTS, timestamp)
        const sent = new Map(events.map((e) => [e.id, e]))
        const customers = [...new Set(events.map((e) => e.customerId))]
        // Credit-priced meters, a subscription from the day before the events and a grant each:
        // every acknowledged event is deducted while the kills go on.
        const range = { from: new Date(Date.parse(timestamp) - DAY).toISOString(), to: new Date(Date.parse(timestamp) + DAY).toISOString() }
        await setUpLedger(url, customers, range.from)
        const log = newDeliveryLog()
        let done = false
        const deadline = Date.now() + (CHAOS_LONG ? 500_000 : 45_000)
        const delivery = deliver(events, {
          target: () => url,
          stopped: () => down,
          batchSize: 200,
          concurrency: 4,
          maxAttempts: 10_000,
          deadlineMs: deadline - Date.now(),
        }, log).finally(() => {
          done = true
        })
        // Balance and usage read all along, kills included: each answer includes every event
        // acknowledged before it was asked for.
        const reads = readDuringIngest({ url: () => url, events, acknowledged: log.acknowledged, range, running: () => !done, paused: () => down, pauseMs: 20 })

        // Kill points: seeded fractions of the ingest, in order, each plus a seeded 0–20 ms.
        const points = Array.from({ length: KILLS }, () => 0.05 + rng.next() * 0.85).sort((a, b) => a - b)
        const ackedAtKill: number[] = []
        const inFlightAtKill: number[] = []
        const foldedAtKill: number[] = []
        for (const point of points) {
          while (log.acknowledged.size < point * EVENTS && !done) {
            if (Date.now() > deadline) throw new Error(`no progress: ${log.acknowledged.size} acknowledged`)
            await pause(2)
          }
          await pause(rng.int(0, 20))
          const acknowledgedBefore = new Set(log.acknowledged)
          down = true
          inFlightAtKill.push(log.inFlight)
          await killCollector(current)
          // Whatever was acknowledged before the kill is in the file now, before any restart.
          const stored = new Set(readStored(dbPath).map((r) => r.id))
          const missing = [...acknowledgedBefore].filter((id) => !stored.has(id))
          expect(missing, `acknowledged before kill but not stored: ${missing.slice(0, 5).join(', ')}`).toEqual([])
          ackedAtKill.push(acknowledgedBefore.size)
          // The deductions in the file are exactly those of the events up to the credits
          // watermark, each once, and every customer's entries sum to its stored balance.
          const ledger = ledgerAtKill(dbPath)
          expect(ledger.problems.slice(0, 10), `ledger in the file after the kill: ${ledger.problems.length} problems`).toEqual([])
          foldedAtKill.push(ledger.folded)
          current = procs.add(await startCollector(dbPath))
          url = current.url
          down = false
        }
        await delivery
        const readCheck = await reads

        const perCustomer = new Map<string, number>()
        const stored = readStored(dbPath)
        for (const row of stored) perCustomer.set(row.customerId, (perCustomer.get(row.customerId) ?? 0) + 1)
        for (const customerId of ['cus_0', 'cus_7', 'cus_22']) {
          expect(await countByCustomer(url, customerId), customerId).toBe(perCustomer.get(customerId))
        }
        const ledger = await auditLedger(url, events.filter((e) => log.acknowledged.has(e.id)), range)
        expect(await stopCollector(current)).toBe(0)
        expect(integrity(dbPath)).toBe('ok')

        const result = audit(sent, log.acknowledged, readStored(dbPath))
        console.log(`[chaos crash] seed ${seed}: ${EVENTS} events, ${KILLS} kills at ${ackedAtKill.join(', ')} acknowledged ` +
          `(${foldedAtKill.join(', ')} deducted), requests in flight at each kill ${inFlightAtKill.join(', ')}; ${describeAudit(result)}; ` +
          `${describeLedgerAudit(ledger)}; reads during the ingest ${readCheck.reads} checked (${readCheck.skipped} met the kill), ` +
          `${readCheck.failures.length} wrong; ` +
          `resent in-doubt events answered duplicate ${log.duplicates.size}, network errors ${log.networkErrors}, retries ${log.retries}`)
        expect(result.lost, describeAudit(result)).toEqual([])
        expect(result.duplicated, describeAudit(result)).toEqual([])
        expect(result.unexpected, describeAudit(result)).toEqual([])
        expect([...log.refused]).toEqual([])
        expect(log.undelivered).toEqual([])
        expect(result.stored).toBe(EVENTS)
        expect(ackedAtKill).toHaveLength(KILLS)
        expect(ledger.lost, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.duplicated, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.unexpected, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.mismatches, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.customers).toBe(customers.length)
        expect(ledger.events).toBe(EVENTS)
        expect(readCheck.failures.slice(0, 10), `${readCheck.failures.length} reads wrong`).toEqual([])
        expect(readCheck.reads).toBeGreaterThan(0)
      } finally {
        await procs.killAll()
        removeDir(dir)
      }
    })
  }, CHAOS_LONG ? 600_000 : 60_000)

  it('SIGTERM the moment a collector says it is listening still drains and exits 0 (8 starts at once)', async () => {
    const dirs = Array.from({ length: 8 }, () => tempDir('meterkit-chaos-term-'))
    const procs = new Processes()
    try {
      // Started together so they compete for the two cores, as in a loaded CI run.
      const codes = await Promise.all(dirs.map(async (dir) => {
        const c = procs.add(await startCollector(join(dir, 'meterkit.db')))
        c.child.kill('SIGTERM')
        return c.exited
      }))
      expect(codes).toEqual(dirs.map(() => 0))
    } finally {
      await procs.killAll()
      dirs.forEach(removeDir)
    }
  }, 60_000)
})
