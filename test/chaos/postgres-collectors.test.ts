// Several collectors, one PostgreSQL database (CONTRACT §9): two `meterkit start --store
// postgres://…` processes take the same ingest, alternately, while seeded kill -9s take one or
// the other down and it restarts. Billing runs sent to both at once, and the fold and the credit
// deductions that either may run, happen once: every acknowledged event is stored once, usage
// and the credit ledger agree with figures computed from the acknowledged events, `verify` is
// clean, and each billing period has one invoice.
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createTestDatabase, postgresAvailable, type TestDatabase } from '@meterkit/engine/testing'
import { audit, chaosSeeds, describeAudit, makeEvents, pause, stableTimestamp, withSeed, type StoredRow } from '../support/chaos.js'
import { Processes, killCollector, stopCollector } from '../support/collector-control.js'
import { ADMIN_KEY, CLI, type CollectorProcess, startCollector } from '../support/collector-process.js'
import { auditLedger, describeLedgerAudit, setUpLedger } from '../support/ledger-audit.js'
import { deliver, newDeliveryLog } from '../support/retrying-sender.js'
import { spawnSync } from 'node:child_process'

const SEEDS = chaosSeeds('postgres-collectors', 1, 10)
const EVENTS = 24_000
const KILLS = 2
const DAY = 86_400_000

const available = await postgresAvailable()

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

const api = async (url: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe.runIf(available === true)('two collectors on one PostgreSQL database (kill -9 of either)', () => {
  it.each(SEEDS)(`seed %i: ${EVENTS} events through both, ${KILLS} kills; stored once, deducted once, billed once`, async (seed) => {
    await withSeed('postgres-collectors', seed, async (rng) => {
      // A database of its own per seed: the audit reads every event stored.
      const db: TestDatabase = await createTestDatabase()
      const procs = new Processes()
      try {
        const collectors: CollectorProcess[] = [procs.add(await startCollector(db.url)), procs.add(await startCollector(db.url))]
        const down = [false, false]
        const timestamp = stableTimestamp()
        const events = makeEvents(`pg-${seed}`, EVENTS, timestamp)
        const sent = new Map(events.map((e) => [e.id, e]))
        const customers = [...new Set(events.map((e) => e.customerId))]
        const range = { from: new Date(Date.parse(timestamp) - DAY).toISOString(), to: new Date(Date.parse(timestamp) + DAY).toISOString() }
        await setUpLedger(collectors[0]!.url, customers, range.from)
        const log = newDeliveryLog()
        let turn = 0
        // Each batch goes to the next collector that is up.
        const target = () => {
          turn++
          const i = down[turn % 2] ? (turn + 1) % 2 : turn % 2
          return collectors[i]!.url
        }
        let done = false
        const delivery = deliver(events, { target, stopped: () => down[0]! && down[1]!, batchSize: 200, concurrency: 4, maxAttempts: 10_000, deadlineMs: 90_000 }, log)
          .finally(() => (done = true))
        // Billing runs on both at once while the ingest goes on (a run cut by a kill rolls back
        // what it had not committed): each period is invoiced once.
        // Past the end of the first period, so that the runs close and invoice it.
        const until = new Date(Date.parse(range.from) + 370 * DAY).toISOString()
        const during = Promise.all(collectors.map((c) => api(c.url, 'POST', '/v1/billing/run', { until }).then((r) => r.status, () => 'cut')))

        const points = Array.from({ length: KILLS }, () => 0.1 + rng.next() * 0.6).sort((a, b) => a - b)
        const killed: number[] = []
        for (const [k, point] of points.entries()) {
          while (log.acknowledged.size < point * EVENTS && !done) await pause(2)
          await pause(rng.int(0, 20))
          const victim = k % 2
          down[victim] = true
          killed.push(log.acknowledged.size)
          await killCollector(collectors[victim]!)
          // The other collector keeps taking the ingest meanwhile.
          await pause(rng.int(50, 300))
          collectors[victim] = procs.add(await startCollector(db.url))
          down[victim] = false
        }
        await delivery
        const cut = (await during).filter((s) => s !== 200)
        const after = await Promise.all(collectors.map((c) => api(c.url, 'POST', '/v1/billing/run', { until })))
        expect(after.map((r) => r.status)).toEqual([200, 200])
        // Both at once again: nothing more to invoice, and nothing twice.
        const again = await Promise.all(collectors.map((c) => api(c.url, 'POST', '/v1/billing/run', { until })))
        expect(again.map((r) => (r.body.finalized as string[]).length)).toEqual([0, 0])

        const acknowledged = events.filter((e) => log.acknowledged.has(e.id))
        const ledger = await auditLedger(collectors[1]!.url, acknowledged, range)
        const invoices = (await api(collectors[0]!.url, 'GET', '/v1/invoices?limit=1000')).body.data as { subscriptionId: string; periodStart: string; periodEnd: string }[]
        const periods = invoices.map((i) => `${i.subscriptionId} ${i.periodStart} ${i.periodEnd}`)
        expect(new Set(periods).size, 'one invoice per subscription and period').toBe(periods.length)
        expect(new Set(invoices.map((i) => i.subscriptionId)).size, 'every subscription invoiced').toBe(customers.length)
        for (const c of collectors) expect(await stopCollector(c)).toBe(0)
        const verify = spawnSync(process.execPath, [CLI, 'verify', '--store', db.url], { encoding: 'utf8' })
        expect(verify.stdout).toContain('no difference')
        expect(verify.status).toBe(0)

        const result = audit(sent, log.acknowledged, await readStored(db.url))
        console.log(`[chaos postgres-collectors] seed ${seed}: ${EVENTS} events through 2 collectors, kills at ${killed.join(', ')} acknowledged; ` +
          `${describeAudit(result)}; ${describeLedgerAudit(ledger)}; ${invoices.length} invoices (${cut.length} billing runs cut by a kill); retries ${log.retries}`)
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
        await db.drop()
      }
    })
  }, 240_000)
})

if (available !== true) it.skip(available, () => {})
