// Credits: ingest with real-time credit deduction against the same ingest with the charge priced
// in money (same run, same subscriptions); then, over HTTP, the reservation round trip (reserve +
// release) and the entitlement check, against one usage query as their baseline.
import { execFileSync } from 'node:child_process'
import { startCollector } from './lib/collector.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CUSTOMERS = 1000

function config(unit) {
  return {
    meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', groupBy: ['resolution'] }],
    features: [{ key: 'renders', type: 'metered', meter: 'gpu', limit: '1000000000', hard: true }],
    plans: [{
      key: 'studio', currency: 'USD', interval: 'month', creditPrice: '0.01', features: ['renders'],
      charges: [{ key: 'gpu', meter: 'gpu', ...(unit ? { unit } : {}), model: 'dimensional', dimension: 'resolution',
        prices: { '4k': { model: 'graduated', tiers: [{ upTo: '1000', unitAmount: '4' }, { upTo: null, unitAmount: '3' }] }, '*': { model: 'per_unit', unitAmount: '1' } } }],
      grants: [{ credits: '1000000000', recurring: 'P1M', priority: 10 }],
    }],
  }
}

async function call(collector, method, path, body) {
  const res = await fetch(`${collector.url}${path}`, {
    method, headers: { authorization: `Bearer ${collector.adminKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

function load(collector, prefix) {
  const out = execFileSync(process.execPath, [new URL('./lib/loadgen.mjs', import.meta.url).pathname, collector.url, collector.adminKey, '16', '500', String(SECONDS), prefix], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

async function ingestRate(unit) {
  const collector = await startCollector()
  try {
    await call(collector, 'PUT', '/v1/config', config(unit))
    const start = new Date(Date.now() - 86_400_000).toISOString()
    for (let c = 0; c < CUSTOMERS; c++) await call(collector, 'POST', '/v1/subscriptions', { customerId: `cus_${c}`, plan: 'studio', startAt: start })
    load(collector, 'warm')
    const r = load(collector, 'run')
    // Every acknowledged event is in the balance the moment it is read: this read folds the rest.
    const t0 = performance.now()
    const balance = await call(collector, 'GET', '/v1/customers/cus_1/balance')
    const catchUpMs = performance.now() - t0
    if (unit && balance.balance === '1000000000') throw new Error('no credits were deducted')
    // The deduction of the last events may still be running when the load stops: a rate that
    // counts the time to finish it is the honest one.
    return { rate: r.events / r.seconds, settledRate: r.events / (r.seconds + catchUpMs / 1000), catchUpMs }
  } finally {
    await collector.stop()
  }
}

const money = await ingestRate(undefined)
const credits = await ingestRate('credits')
console.log(`ingest, charge in money: ${Math.round(money.rate).toLocaleString()} events/s`)
console.log(`ingest, charge in credits (deducted as events arrive): ${Math.round(credits.rate).toLocaleString()} events/s acknowledged (${(credits.rate / money.rate * 100).toFixed(1)}%); first balance read after the load: ${credits.catchUpMs.toFixed(0)} ms (it finishes the deductions behind)`)
console.log(`  counting the time to finish every deduction: ${Math.round(credits.settledRate).toLocaleString()} vs ${Math.round(money.settledRate).toLocaleString()} events/s = ${(credits.settledRate / money.settledRate * 100).toFixed(1)}% (target ≥ 70%)`)

// Latency over HTTP on a quiet collector.
const collector = await startCollector()
const pct = (list, q) => [...list].sort((a, b) => a - b)[Math.floor(list.length * q)]
let reserve, release, entitlement, usage
try {
  await call(collector, 'PUT', '/v1/config', config('credits'))
  await call(collector, 'POST', '/v1/subscriptions', { customerId: 'cus_r', plan: 'studio', startAt: new Date(Date.now() - 86_400_000).toISOString() })
  await call(collector, 'POST', '/v1/events', { events: [{ event: 'render.completed', id: 'seed', customerId: 'cus_r', timestamp: new Date().toISOString(), properties: { gpuSeconds: 5, resolution: '4k' } }] })
  reserve = []
  release = []
  entitlement = []
  usage = []
  for (let i = 0; i < 2000; i++) {
    let t = performance.now()
    const r = await call(collector, 'POST', '/v1/reservations', { id: `job-${i}`, customerId: 'cus_r', credits: '40' })
    reserve.push(performance.now() - t)
    t = performance.now()
    await call(collector, 'POST', `/v1/reservations/${r.id}/release`)
    release.push(performance.now() - t)
    t = performance.now()
    await call(collector, 'GET', '/v1/customers/cus_r/entitlements/renders')
    entitlement.push(performance.now() - t)
    t = performance.now()
    await call(collector, 'GET', '/v1/customers/cus_r/usage?meter=gpu')
    usage.push(performance.now() - t)
  }
} finally {
  await collector.stop()
}
// The first hundred warm the connections and the statement caches.
for (const list of [reserve, release, entitlement, usage]) list.splice(0, 100)
console.log(`reservation round trip (POST /v1/reservations, answered after its commit): p50 ${pct(reserve, 0.5).toFixed(2)} ms, p99 ${pct(reserve, 0.99).toFixed(2)} ms (target ≤ 5 ms); release p50 ${pct(release, 0.5).toFixed(2)} ms, p99 ${pct(release, 0.99).toFixed(2)} ms`)
console.log(`entitlement check: p50 ${pct(entitlement, 0.5).toFixed(2)} ms, p99 ${pct(entitlement, 0.99).toFixed(2)} ms (target ≤ 2 ms); usage query p99 ${pct(usage, 0.99).toFixed(2)} ms`)

console.log('::result::' + JSON.stringify({
  name: 'credits',
  figures: [
    { name: 'ingest, charge in money', value: Math.round(money.rate), unit: 'events/s' },
    { name: 'ingest, charge in credits (acknowledged)', value: Math.round(credits.rate), unit: 'events/s', baseline: 'ingest, charge in money', ratio: credits.rate / money.rate },
    { name: 'ingest, charge in money, until read-consistent', value: Math.round(money.settledRate), unit: 'events/s' },
    { name: 'ingest, charge in credits, until every deduction is done', value: Math.round(credits.settledRate), unit: 'events/s', baseline: 'ingest, charge in money, until read-consistent', ratio: credits.settledRate / money.settledRate, target: '≥ 0.70' },
    { name: 'first balance read after the load', value: credits.catchUpMs, unit: 'ms' },
    { name: 'usage query over HTTP p99', value: pct(usage, 0.99), unit: 'ms' },
    { name: 'release p99', value: pct(release, 0.99), unit: 'ms' },
    { name: 'reservation round trip p99', value: pct(reserve, 0.99), unit: 'ms', baseline: 'usage query over HTTP p99', ratio: pct(reserve, 0.99) / pct(usage, 0.99), target: '≤ 5 ms' },
    { name: 'entitlement check p99', value: pct(entitlement, 0.99), unit: 'ms', baseline: 'usage query over HTTP p99', ratio: pct(entitlement, 0.99) / pct(usage, 0.99), target: '≤ 2 ms' },
  ],
}))
