// Billing: a run that closes a month for 10,000 customers with three usage charges each, a
// simulation over the same month, and the upcoming-invoice preview of one customer. The
// baseline is the least any billing must do in the same run: read and parse every event of the
// month once.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@meterkit/engine'

const CUSTOMERS = Number(process.env.BENCH_BILLING_CUSTOMERS ?? 10_000)
const EVENTS = Number(process.env.BENCH_BILLING_EVENTS ?? 500_000)
const CONFIG = {
  meters: [
    { key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', groupBy: ['resolution'] },
    { key: 'renders', event: 'render.completed', aggregation: 'count' },
    { key: 'clips', event: 'render.completed', aggregation: 'unique_count', property: 'clipId' },
  ],
  plans: [{
    key: 'pro', currency: 'USD', interval: 'month', anchor: 'calendar',
    charges: [
      { key: 'base', model: 'flat', amount: '49' },
      { key: 'gpu', meter: 'gpu', model: 'dimensional', dimension: 'resolution', prices: { '4k': { model: 'per_unit', unitAmount: '0.04' }, '*': { model: 'graduated', tiers: [{ upTo: '100', unitAmount: '0' }, { upTo: null, unitAmount: '0.01' }] } } },
      { key: 'renders', meter: 'renders', model: 'volume', tiers: [{ upTo: '20', unitAmount: '0.5' }, { upTo: null, unitAmount: '0.25' }] },
      { key: 'clips', meter: 'clips', model: 'package', packageSize: '10', amount: '1' },
    ],
  }],
}
const candidate = { ...CONFIG.plans[0], key: 'pro_next', charges: CONFIG.plans[0].charges.map((c) => (c.key === 'renders' ? { ...c, tiers: [{ upTo: '10', unitAmount: '0.6' }, { upTo: null, unitAmount: '0.2' }] } : c)) }

const dir = mkdtempSync(join(tmpdir(), 'meterkit-billing-bench-'))
const store = new SqliteStore(join(dir, 'billing.db'))
const tenantId = (await store.defaultTenant('bench', 0)).id
await store.applyConfig(tenantId, CONFIG, null, 0)
const from = Date.parse('2026-11-01T00:00:00Z')
const to = Date.parse('2026-12-01T00:00:00Z')
const insert = store.db.prepare(
  `INSERT INTO events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at)
   VALUES (?, ?, 'render.completed', ?, ?, ?, NULL, 'server', ?)`,
)
const fill = store.db.transaction((start, n) => {
  for (let i = start; i < start + n; i++) {
    const ts = from + Math.floor((i / EVENTS) * (to - from))
    insert.run(tenantId, `b-${i}`, `cus_${i % CUSTOMERS}`, ts, `{"gpuSeconds":${(i % 97) / 4},"resolution":"${i % 3 ? '1080p' : '4k'}","clipId":"clip_${i % 37}"}`, ts)
  }
})
let t0 = performance.now()
for (let i = 0; i < EVENTS; i += 50_000) fill(i, Math.min(50_000, EVENTS - i))
await store.foldAll()
store.db.transaction(() => {
  for (let c = 0; c < CUSTOMERS; c++) void store.billing.subscribe(tenantId, { id: `sub_${c}`, customerId: `cus_${c}`, plan: 'pro', startMs: from }, from)
})()
await store.billing.run(tenantId, from, from) // opening invoices (nothing to close)
console.log(`${EVENTS.toLocaleString()} events for ${CUSTOMERS.toLocaleString()} customers stored and subscribed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

// Baseline: read and parse every event of the month once, per customer, as billing must.
t0 = performance.now()
const scan = store.db.prepare(
  `SELECT e.seq, e.id, e.event, e.ts, e.properties, e.status FROM customer_events c JOIN events e ON e.seq = c.seq
   WHERE c.tenant_id = ? AND c.customer_id = ? AND c.ts >= ? AND c.ts < ?`,
)
let parsed = 0
store.db.transaction(() => {
  for (let c = 0; c < CUSTOMERS; c++) for (const row of scan.iterate(tenantId, `cus_${c}`, from, to)) parsed += JSON.parse(row.properties).gpuSeconds >= 0 ? 1 : 0
})()
const scanSeconds = (performance.now() - t0) / 1000
console.log(`baseline: read and parse ${parsed.toLocaleString()} events per customer in ${scanSeconds.toFixed(2)} s`)

t0 = performance.now()
const result = await store.billing.run(tenantId, to + 3_600_000, to + 3_600_000)
const runSeconds = (performance.now() - t0) / 1000
if (result.finalized.length !== CUSTOMERS) throw new Error(`expected ${CUSTOMERS} invoices, got ${result.finalized.length}`)
console.log(`billing run: ${result.finalized.length.toLocaleString()} invoices in ${runSeconds.toFixed(2)} s (target ≤ 10 s; ${(runSeconds / scanSeconds).toFixed(2)}× the baseline)`)

t0 = performance.now()
const sim = await store.billing.simulate(tenantId, { plan: candidate, fromMs: from, toMs: to })
const simSeconds = (performance.now() - t0) / 1000
if (!sim.ok || sim.value.length !== CUSTOMERS) throw new Error('simulation failed')
console.log(`simulation: ${sim.value.length.toLocaleString()} customers in ${simSeconds.toFixed(2)} s (${(simSeconds / scanSeconds).toFixed(2)}× the baseline)`)

// Previews in the open December period, with half a month of events for each customer.
const dec = Date.parse('2026-12-01T00:00:00Z')
const fillDec = store.db.transaction((start, n) => {
  for (let i = start; i < start + n; i++) {
    const ts = dec + Math.floor((i / EVENTS) * 15 * 86_400_000)
    insert.run(tenantId, `d-${i}`, `cus_${i % CUSTOMERS}`, ts, `{"gpuSeconds":${(i % 97) / 4},"resolution":"${i % 3 ? '1080p' : '4k'}","clipId":"clip_${i % 37}"}`, ts)
  }
})
for (let i = 0; i < EVENTS; i += 50_000) fillDec(i, Math.min(50_000, EVENTS - i))
await store.foldAll()
const now = dec + 15 * 86_400_000
const previews = []
const usageQueries = []
for (let i = 0; i < 500; i++) {
  const customerId = `cus_${(i * 7919) % CUSTOMERS}`
  let t = performance.now()
  const inv = await store.billing.upcoming(tenantId, customerId, now)
  previews.push(performance.now() - t)
  if (inv === undefined) throw new Error('no upcoming invoice')
  t = performance.now()
  await store.usage(tenantId, { customerId, meter: 'gpu', fromMs: dec, toMs: now, window: 'none', groupBy: ['resolution'] })
  usageQueries.push(performance.now() - t)
}
const pct = (list, q) => [...list].sort((a, b) => a - b)[Math.floor(list.length * q)]
const previewP99 = pct(previews, 0.99)
const usageP99 = pct(usageQueries, 0.99)
console.log(`upcoming invoice: p50 ${pct(previews, 0.5).toFixed(2)} ms, p99 ${previewP99.toFixed(2)} ms (target ≤ 20 ms); one usage query p99 ${usageP99.toFixed(2)} ms`)
await store.close()

console.log('::result::' + JSON.stringify({
  name: 'billing',
  figures: [
    { name: `read and parse a month of events (${EVENTS} events, ${CUSTOMERS} customers)`, value: scanSeconds, unit: 's' },
    { name: `billing run, ${CUSTOMERS} customers × 3 usage charges`, value: runSeconds, unit: 's', baseline: 'read and parse a month of events', ratio: runSeconds / scanSeconds, target: '≤ 10 s' },
    { name: 'simulation, same month', value: simSeconds, unit: 's', baseline: 'read and parse a month of events', ratio: simSeconds / scanSeconds },
    { name: 'one usage query p99', value: usageP99, unit: 'ms' },
    { name: 'upcoming invoice p99', value: previewP99, unit: 'ms', baseline: 'one usage query p99', ratio: previewP99 / usageP99, target: '≤ 20 ms' },
  ],
}))
