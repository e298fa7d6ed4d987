// Ingest throughput: POST /v1/events with 500-event batches over 16 keep-alive connections
// against a real collector process, load from a separate process; and, in the same run, the
// raw ceiling: better-sqlite3 inserting the same rows into the same schema, 500 rows a
// transaction, with no HTTP.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '@meterkit/engine'
import { startCollector } from './lib/collector.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const BATCH = 500
const CONNECTIONS = 16

function rawCeiling(seconds) {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'meterkit-raw-')), 'raw.db'))
  const insert = db.prepare(
    `INSERT INTO events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
  )
  const tx = db.transaction((from) => {
    const now = Date.now()
    for (let i = from; i < from + BATCH; i++) {
      const props = `{"gpuSeconds":12.5,"resolution":"${i % 3 ? '1080p' : '4k'}","status":"succeeded","clipId":"clip_${i % 5000}"}`
      insert.run(1, `raw-${String(i).padStart(10, '0')}`, 'render.completed', `cus_${i % 1000}`, now, props, null, 'server', now)
    }
  })
  let n = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    tx(n)
    n += BATCH
  }
  const rate = n / ((performance.now() - start) / 1000)
  db.close()
  return rate
}

function httpIngest(url, key, seconds, prefix) {
  const out = execFileSync(process.execPath, [new URL('./lib/loadgen.mjs', import.meta.url).pathname, url, key, String(CONNECTIONS), String(BATCH), String(seconds), prefix], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

const raw = rawCeiling(SECONDS)
console.log(`raw ceiling (better-sqlite3, ${BATCH}-row transactions, WAL, synchronous=FULL): ${Math.round(raw).toLocaleString()} rows/s`)

const collector = await startCollector()
try {
  httpIngest(collector.url, collector.adminKey, 2, 'warm')
  const r = httpIngest(collector.url, collector.adminKey, SECONDS, 'run')
  const rate = r.events / r.seconds
  console.log(`POST /v1/events (${BATCH}-event batches, ${CONNECTIONS} connections): ${Math.round(rate).toLocaleString()} events/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ${r.failures} failed requests`)
  console.log(`ratio to raw ceiling: ${(rate / raw * 100).toFixed(1)}% (target ≥ 40%, and ≥ 100,000 events/s)`)
  console.log('::result::' + JSON.stringify({
    name: 'ingest',
    figures: [
      { name: 'raw SQLite ceiling', value: Math.round(raw), unit: 'rows/s' },
      { name: 'POST /v1/events', value: Math.round(rate), unit: 'events/s', baseline: 'raw SQLite ceiling', ratio: rate / raw, target: '≥ 0.40 and ≥ 100000 events/s' },
      { name: 'POST /v1/events p50', value: r.p50Ms, unit: 'ms' },
      { name: 'POST /v1/events p99', value: r.p99Ms, unit: 'ms' },
    ],
  }))
} finally {
  await collector.stop()
}
