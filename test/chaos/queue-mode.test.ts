// Queue mode under faults (CONTRACT §9): two `meterkit start --queue` collectors and two
// `meterkit worker` processes on one PostgreSQL database and a nats-server of this test's own,
// while seeded faults strike during the ingest: kill -9 of a collector or a worker (restarted
// after a pause; the other workers take its partitions meanwhile) and restarts of nats-server
// (SIGTERM or kill -9; collectors answer 503 meanwhile, and everyone reconnects). Every event
// acknowledged (`queued`) is stored once, usage and the credit ledger agree with figures
// computed from the acknowledged events, and `meterkit verify` is clean.
import { spawnSync } from 'node:child_process'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createTestDatabase, postgresAvailable, type TestDatabase } from '@meterkit/engine/testing'
import { NatsServer, natsAvailable, natsServerAvailable } from '../../collector/src/queue/testing.js'
import { CHAOS_LONG, audit, chaosSeeds, describeAudit, makeEvents, pause, stableTimestamp, withSeed, type StoredRow } from '../support/chaos.js'
import { Processes, killCollector, stopCollector } from '../support/collector-control.js'
import { CLI, type CollectorProcess, startCollector } from '../support/collector-process.js'
import { auditLedger, describeLedgerAudit, setUpLedger } from '../support/ledger-audit.js'
import { queueArgs, startWorker } from '../support/queue-process.js'
import { deliver, newDeliveryLog } from '../support/retrying-sender.js'
import { waitFor } from '../support/wait.js'

const SEEDS = chaosSeeds('queue-mode', 1, 10)
const EVENTS = CHAOS_LONG ? 24_000 : 12_000
const FAULTS = CHAOS_LONG ? 6 : 4
const DAY = 86_400_000
const STREAM = 'mkchaos'

const postgres = await postgresAvailable()
const nats = await natsAvailable()
const server = nats === true ? natsServerAvailable() : nats
const available = postgres === true && server === true ? true : [postgres, server].filter((r) => r !== true).join('; ')

async function readStored(url: string): Promise<StoredRow[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query(
      `SELECT tenant_id::int AS "tenantId", id, count(*)::int AS count, min(event) AS event, min(customer_id) AS "customerId", min(properties) AS properties
       FROM events GROUP BY tenant_id, id`,
    )
    return rows as StoredRow[]
  } finally {
    await client.end()
  }
}

type Fault = 'collector' | 'worker' | 'nats-term' | 'nats-kill'

describe.runIf(available === true)('queue mode: two collectors, two workers, NATS JetStream (kill -9 of any, nats-server restarts)', () => {
  it.each(SEEDS)(`seed %i: ${EVENTS} events, ${FAULTS} faults during the ingest; stored once, deducted once, verify clean`, async (seed) => {
    await withSeed('queue-mode', seed, async (rng) => {
      const db: TestDatabase = await createTestDatabase()
      const nats = await NatsServer.start()
      const procs = new Processes()
      const started = { collectors: 0, workers: 0 }
      const collector = async () => {
        started.collectors++
        return procs.add(await startCollector(db.url, queueArgs(nats.url, STREAM)))
      }
      const worker = async () => {
        started.workers++
        return procs.add(await startWorker(db.url, nats.url, STREAM))
      }
      try {
        const collectors: CollectorProcess[] = [await collector(), await collector()]
        const workers: CollectorProcess[] = [await worker(), await worker()]
        const down = [false, false]
        const timestamp = stableTimestamp()
        const events = makeEvents(`q-${seed}`, EVENTS, timestamp)
        const sent = new Map(events.map((e) => [e.id, e]))
        const customers = [...new Set(events.map((e) => e.customerId))]
        const range = { from: new Date(Date.parse(timestamp) - DAY).toISOString(), to: new Date(Date.parse(timestamp) + DAY).toISOString() }
        await setUpLedger(collectors[0]!.url, customers, range.from)
        const log = newDeliveryLog()
        let turn = 0
        const target = () => {
          turn++
          const i = down[turn % 2] ? (turn + 1) % 2 : turn % 2
          return collectors[i]!.url
        }
        let done = false
        const delivery = deliver(events, { target, stopped: () => down[0]! && down[1]!, batchSize: 100, concurrency: 4, paceMs: CHAOS_LONG ? 250 : 150, maxAttempts: 10_000, deadlineMs: 180_000 }, log)
          .finally(() => (done = true))

        const kinds: Fault[] = ['collector', 'worker', 'nats-term', 'nats-kill']
        // Every kind once in the first four faults (shuffled by the seed), then any.
        const order = kinds.map((k) => ({ k, r: rng.next() })).sort((a, b) => a.r - b.r).map((x) => x.k)
        const faults = Array.from({ length: FAULTS }, (_, i) => (i < order.length ? order[i]! : kinds[rng.int(0, kinds.length - 1)]!))
        const points = faults.map(() => 0.05 + rng.next() * 0.8).sort((a, b) => a - b)
        const record: string[] = []
        for (const [k, fault] of faults.entries()) {
          while (log.acknowledged.size < points[k]! * EVENTS && !done) await pause(2)
          await pause(rng.int(0, 20))
          const at = log.acknowledged.size
          if (fault === 'collector') {
            const victim = rng.int(0, 1)
            down[victim] = true
            await killCollector(collectors[victim]!)
            await pause(rng.int(50, 300))
            collectors[victim] = await collector()
            down[victim] = false
          } else if (fault === 'worker') {
            const victim = rng.int(0, 1)
            await killCollector(workers[victim]!)
            // The other worker takes the dead one's partitions meanwhile.
            await pause(rng.int(50, 1500))
            workers[victim] = await worker()
          } else {
            await nats.stop(fault === 'nats-kill' ? 'SIGKILL' : 'SIGTERM')
            await pause(rng.int(100, 1000))
            await nats.restart()
          }
          record.push(`${fault} at ${at}`)
        }
        await delivery
        expect(log.undelivered, 'every batch delivered in the end').toEqual([])
        // The workers catch up: every acknowledged event is stored.
        await waitFor(async () => {
          const stored = new Set((await readStored(db.url)).map((r) => r.id))
          return [...log.acknowledged].every((id) => stored.has(id))
        }, 'the workers to apply every acknowledged event', 90_000, 200)

        const acknowledged = events.filter((e) => log.acknowledged.has(e.id))
        const ledger = await auditLedger(collectors[1]!.url, acknowledged, range)
        for (const c of [...collectors, ...workers]) expect(await stopCollector(c)).toBe(0)
        const verify = spawnSync(process.execPath, [CLI, 'verify', '--store', db.url], { encoding: 'utf8' })
        expect(verify.stdout).toContain('no difference')
        expect(verify.status).toBe(0)

        const result = audit(sent, log.acknowledged, await readStored(db.url))
        const statuses = [...log.statuses].map(([s, n]) => `${s}×${n}`).join(' ')
        console.log(`[chaos queue-mode] seed ${seed}: ${EVENTS} events through 2 collectors and 2 workers, faults: ${record.join('; ')}; ` +
          `${describeAudit(result)}; ${describeLedgerAudit(ledger)}; answers ${statuses}; network errors ${log.networkErrors}; retries ${log.retries}`)
        expect(result.lost, describeAudit(result)).toEqual([])
        expect(result.duplicated, describeAudit(result)).toEqual([])
        expect(result.unexpected, describeAudit(result)).toEqual([])
        expect(result.stored).toBe(EVENTS)
        expect(ledger.lost, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.duplicated, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.unexpected, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.mismatches, describeLedgerAudit(ledger)).toEqual([])
        expect(ledger.customers).toBe(customers.length)
      } finally {
        await procs.killAll()
        await nats.close()
        await db.drop()
      }
    })
  }, 300_000)
})

if (available !== true) it.skip(available, () => {})
