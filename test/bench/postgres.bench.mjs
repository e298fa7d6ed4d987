// The PostgreSQL ceiling, the baseline the PostgreSQL store is measured against: multi-row
// INSERT … ON CONFLICT DO NOTHING of 500-event batches over 16 connections into a copy of the
// `events` table (its indexes, seqs from an identity column), no HTTP and no store. In the same
// run, the store's own append path (PostgresStorage.append: the append lock, dedup, numbered
// seqs, customers) with 16 callers at once, as a ratio to that ceiling. A fresh database each
// run (MK_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres), dropped after.
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { openPool, openPostgres } from '@meterkit/engine'
import { startCollector } from './lib/collector.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const BATCH = 500
const CONNECTIONS = 16
const ADMIN_URL = process.env.MK_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const props = (i) => `{"gpuSeconds":12.5,"resolution":"${i % 3 ? '1080p' : '4k'}","status":"succeeded","clipId":"clip_${i % 5000}"}`

/** Runs `work(n)` on `workers` callers at once for `seconds`; answers rows per second. */
async function sustained(seconds, workers, work) {
  let next = 0
  let rows = 0
  const end = performance.now() + seconds * 1000
  const start = performance.now()
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < end) {
      const from = next
      next += BATCH
      await work(from)
      rows += BATCH
    }
  }))
  return rows / ((performance.now() - start) / 1000)
}

async function rawCeiling(pool, seconds, prefix) {
  const placeholders = Array.from({ length: BATCH }, (_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`).join(', ')
  const text = `INSERT INTO raw_events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at) VALUES ${placeholders}
    ON CONFLICT (tenant_id, id) DO NOTHING`
  return sustained(seconds, CONNECTIONS, async (from) => {
    const now = Date.now()
    const values = []
    for (let i = from; i < from + BATCH; i++) values.push(1, `${prefix}-${String(i).padStart(10, '0')}`, 'render.completed', `cus_${i % 1000}`, now, props(i), null, 'server', now)
    await pool.query({ name: 'raw_insert', text, values })
  })
}

async function storeAppend(storage, seconds, prefix) {
  return sustained(seconds, CONNECTIONS, async (from) => {
    const now = Date.now()
    const events = []
    for (let i = from; i < from + BATCH; i++) {
      const propertiesJson = props(i)
      events.push({ id: `${prefix}-${String(i).padStart(10, '0')}`, event: 'render.completed', customerId: `cus_${i % 1000}`, timestampMs: now, properties: JSON.parse(propertiesJson), propertiesJson, reservationId: undefined })
    }
    await storage.append({ tenantId: 1, source: 'server', receivedAtMs: now, events })
  })
}

const run = promisify(execFile)

/** POST /v1/events through each collector at once, the connections shared out among them; events/s in all. */
async function throughCollectors(urls, key, seconds, prefix) {
  const loadgen = new URL('./lib/loadgen.mjs', import.meta.url).pathname
  const per = Math.max(1, Math.floor(CONNECTIONS / urls.length))
  const results = await Promise.all(urls.map(async (u, i) => {
    const { stdout } = await run(process.execPath, [loadgen, u, key, String(per), String(BATCH), String(seconds), `${prefix}-${i}`], { encoding: 'utf8' })
    return JSON.parse(stdout.trim().split('\n').pop())
  }))
  return results.reduce((n, r) => n + r.events / r.seconds, 0)
}

const name = `mk_bench_${randomBytes(4).toString('hex')}`
const admin = openPool(ADMIN_URL, { max: 1 })
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(ADMIN_URL)
url.pathname = `/${name}`
try {
  const store = await openPostgres(url.toString(), { max: CONNECTIONS })
  try {
    // The events table itself, indexes and all, with seqs from an identity column: the same rows
    // into the same indexes, from 16 connections at once, with no lock and no dedup read.
    await store.pool.query('CREATE TABLE raw_events (LIKE events INCLUDING ALL)')
    await store.pool.query('ALTER TABLE raw_events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY')
    await rawCeiling(store.pool, 2, 'warm')
    const raw = await rawCeiling(store.pool, SECONDS, 'run')
    console.log(`raw ceiling (multi-row INSERT … ON CONFLICT, ${BATCH}-row statements, ${CONNECTIONS} connections): ${Math.round(raw).toLocaleString()} rows/s`)
    await storeAppend(store.storage, 2, 'warm')
    const appended = await storeAppend(store.storage, SECONDS, 'run')
    console.log(`PostgresStorage.append (${BATCH}-event batches, ${CONNECTIONS} callers): ${Math.round(appended).toLocaleString()} events/s, ${(appended / raw * 100).toFixed(1)}% of the raw ceiling`)
    // Durable ingest over HTTP: one collector, then two on the same database.
    const storeArgs = { dbPath: url.toString() }
    const one = await startCollector(storeArgs)
    let viaOne
    try {
      await throughCollectors([one.url], one.adminKey, 2, 'warm1')
      viaOne = await throughCollectors([one.url], one.adminKey, SECONDS, 'one')
    } finally {
      await one.stop()
    }
    const pair = [await startCollector(storeArgs), await startCollector(storeArgs)]
    let viaTwo
    try {
      await throughCollectors(pair.map((c) => c.url), pair[0].adminKey, 2, 'warm2')
      viaTwo = await throughCollectors(pair.map((c) => c.url), pair[0].adminKey, SECONDS, 'two')
    } finally {
      await Promise.all(pair.map((c) => c.stop()))
    }
    console.log(`POST /v1/events through one collector: ${Math.round(viaOne).toLocaleString()} events/s, ${(viaOne / raw * 100).toFixed(1)}% of the raw ceiling (target ≥ 50%)`)
    console.log(`POST /v1/events through two collectors: ${Math.round(viaTwo).toLocaleString()} events/s, ${(viaTwo / raw * 100).toFixed(1)}% of the raw ceiling`)
    console.log('::result::' + JSON.stringify({
      name: 'postgres',
      figures: [
        { name: 'raw PostgreSQL ceiling', value: Math.round(raw), unit: 'rows/s' },
        { name: 'PostgresStorage.append', value: Math.round(appended), unit: 'events/s', baseline: 'raw PostgreSQL ceiling', ratio: appended / raw },
        { name: 'POST /v1/events, one collector', value: Math.round(viaOne), unit: 'events/s', baseline: 'raw PostgreSQL ceiling', ratio: viaOne / raw, target: '≥ 0.50' },
        { name: 'POST /v1/events, two collectors', value: Math.round(viaTwo), unit: 'events/s', baseline: 'raw PostgreSQL ceiling', ratio: viaTwo / raw },
      ],
    }))
  } finally {
    await store.close()
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
