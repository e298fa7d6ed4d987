// Meters: ingest throughput with 5 meters matching every event against the same ingest with no
// meters (same run); a 30-day usage query for one customer among many stored events; and
// `verify` time per million events.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@meterkit/engine'
import { startCollector } from './lib/collector.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const STORED = Number(process.env.BENCH_USAGE_EVENTS ?? 1_000_000)
const CONFIG = {
  meters: [
    { key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', groupBy: ['resolution'] },
    { key: 'renders', event: 'render.completed', aggregation: 'count' },
    { key: 'clips', event: 'render.completed', aggregation: 'unique_count', property: 'clipId' },
    { key: 'peak', event: 'render.completed', aggregation: 'max', property: 'gpuSeconds' },
    { key: 'ok', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', filter: { status: ['succeeded'] } },
  ],
}

function load(url, key, prefix) {
  const out = execFileSync(process.execPath, [new URL('./lib/loadgen.mjs', import.meta.url).pathname, url, key, '16', '500', String(SECONDS), prefix], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

async function ingestRate(withMeters) {
  const collector = await startCollector()
  try {
    if (withMeters) {
      const res = await fetch(`${collector.url}/v1/config`, { method: 'PUT', headers: { authorization: `Bearer ${collector.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(CONFIG) })
      if (!res.ok) throw new Error(`config: ${res.status} ${await res.text()}`)
    }
    load(collector.url, collector.adminKey, 'warm')
    const r = load(collector.url, collector.adminKey, 'run')
    return r.events / r.seconds
  } finally {
    await collector.stop()
  }
}

// BENCH_USAGE_ONLY=1 measures only the stored-events part (for a 10-million-event run).
const usageOnly = process.env.BENCH_USAGE_ONLY === '1'
const plain = usageOnly ? Number.NaN : await ingestRate(false)
const metered = usageOnly ? Number.NaN : await ingestRate(true)
console.log(`ingest, no meters: ${Math.round(plain).toLocaleString()} events/s`)
console.log(`ingest, 5 meters matching every event: ${Math.round(metered).toLocaleString()} events/s (${(metered / plain * 100).toFixed(1)}% of no meters; target ≥ 70%)`)

// A store with STORED events over 30 days across 1000 customers, folded, then usage queries.
const dir = mkdtempSync(join(tmpdir(), 'meterkit-usage-bench-'))
const store = new SqliteStore(join(dir, 'usage.db'))
const tenantId = (await store.defaultTenant('bench', 0)).id
await store.applyConfig(tenantId, CONFIG, null, 0)
const to = Date.parse('2026-11-25T00:00:00Z')
const from = to - 30 * 86_400_000
const insert = store.db.prepare(
  `INSERT INTO events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at)
   VALUES (?, ?, 'render.completed', ?, ?, ?, NULL, 'server', ?)`,
)
const insertCustomer = store.db.prepare("INSERT OR IGNORE INTO customers (tenant_id, id, created_at) VALUES (?, ?, 0)")
const fill = store.db.transaction((start, n) => {
  for (let i = start; i < start + n; i++) {
    const ts = from + Math.floor((i / STORED) * 30 * 86_400_000)
    insert.run(tenantId, `u-${String(i).padStart(10, '0')}`, `cus_${i % 1000}`, ts,
      `{"gpuSeconds":${(i % 97) / 4},"resolution":"${i % 3 ? '1080p' : '4k'}","status":"${i % 10 ? 'succeeded' : 'failed'}","clipId":"clip_${i % 5000}"}`, ts)
  }
})
let t0 = performance.now()
for (let c = 0; c < 1000; c++) insertCustomer.run(tenantId, `cus_${c}`)
for (let i = 0; i < STORED; i += 50_000) fill(i, Math.min(50_000, STORED - i))
const loadSeconds = (performance.now() - t0) / 1000
t0 = performance.now()
await store.foldAll()
const foldSeconds = (performance.now() - t0) / 1000
console.log(`stored ${STORED.toLocaleString()} events in ${loadSeconds.toFixed(1)} s, folded into rollups in ${foldSeconds.toFixed(1)} s`)

const latencies = []
for (let i = 0; i < 300; i++) {
  const t = performance.now()
  const result = await store.usage(tenantId, { customerId: `cus_${i % 1000}`, meter: i % 2 ? 'gpu' : 'clips', fromMs: from, toMs: to, window: 'day', groupBy: i % 2 ? ['resolution'] : [] })
  latencies.push(performance.now() - t)
  if ('error' in result) throw new Error(result.error)
}
latencies.sort((a, b) => a - b)
const p50 = latencies[Math.floor(latencies.length * 0.5)]
const p99 = latencies[Math.floor(latencies.length * 0.99)]
console.log(`30-day usage query, day windows, one customer of 1000 (${STORED.toLocaleString()} events stored): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target p99 ≤ 20 ms)`)

t0 = performance.now()
const report = usageOnly ? { events: 0, differences: [] } : await store.verify()
const verifySeconds = (performance.now() - t0) / 1000
if (report.differences.length) throw new Error(`verify found differences: ${report.differences[0]}`)
const perMillion = verifySeconds / (report.events / 1e6)
console.log(`verify: ${report.events.toLocaleString()} events in ${verifySeconds.toFixed(2)} s = ${perMillion.toFixed(2)} s per million events`)
await store.close()

console.log('::result::' + JSON.stringify({
  name: 'meters',
  figures: [
    { name: 'ingest, no meters', value: Math.round(plain), unit: 'events/s' },
    { name: 'ingest, 5 meters', value: Math.round(metered), unit: 'events/s', baseline: 'ingest, no meters', ratio: metered / plain, target: '≥ 0.70' },
    { name: `usage query p50 (${STORED} events stored)`, value: p50, unit: 'ms' },
    { name: `usage query p99 (${STORED} events stored)`, value: p99, unit: 'ms', target: '≤ 20 ms' },
    { name: 'fold into rollups', value: foldSeconds / (STORED / 1e6), unit: 's per million events' },
    { name: 'verify', value: perMillion, unit: 's per million events' },
  ],
}))
