// Live streams at scale: 1,000 open GET /v1/customers/:id/stream connections on one collector.
// Time from a commit (the POST /v1/events answer) to each stream's update, p50/p99/max, in two
// shapes: one stream per customer with a batch touching every customer, and every stream on one
// customer. Also the time to open the streams and the collector's memory per stream.
// Run after a build: node test/bench/sse.bench.mjs (SSE_STREAMS, SSE_ROUNDS to change the size).
// Last line: `::result::` + JSON, for the bench runner.
import http from 'node:http'
import { startCollector } from './lib/collector.mjs'

const STREAMS = Number(process.env.SSE_STREAMS ?? 1000)
const ROUNDS = Number(process.env.SSE_ROUNDS ?? 5)
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })

const collector = await startCollector()
const base = new URL(collector.url)
const headers = { authorization: `Bearer ${collector.adminKey}`, 'content-type': 'application/json' }

async function api(method, path, body) {
  const res = await fetch(`${collector.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

/** One SSE connection; `until(value)` resolves with the time the `renders` figure reaches `value`. */
function openStream(customerId) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: base.hostname, port: base.port, path: `/v1/customers/${customerId}/stream?meters=renders`, headers, agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream ${customerId}: ${res.statusCode}`))
      res.setEncoding('utf8')
      let text = ''
      let value
      let waiter
      const stream = {
        value: () => value,
        until: (wanted) => new Promise((r) => (value === wanted ? r(performance.now()) : (waiter = { wanted, r }))),
        close: () => req.destroy(),
      }
      res.on('data', (chunk) => {
        text += chunk
        let end
        while ((end = text.indexOf('\n\n')) >= 0) {
          const frame = text.slice(0, end)
          text = text.slice(end + 2)
          const data = /^data: (.*)$/m.exec(frame)
          if (data === null) continue
          value = JSON.parse(data[1]).value
          if (waiter !== undefined && value === waiter.wanted) {
            waiter.r(performance.now())
            waiter = undefined
          }
          if (stream.ready === undefined) {
            stream.ready = true
            resolve(stream)
          }
        }
      })
    })
    req.on('error', reject)
  })
}

async function residentBytes() {
  const text = await (await fetch(`${collector.url}/metrics`)).text()
  return Number(/^meterkit_process_resident_memory_bytes (\S+)$/m.exec(text)?.[1] ?? NaN)
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b)
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] }
}
const event = (id, customerId) => ({ id, event: 'render.completed', customerId, timestamp: new Date().toISOString() })

/**
 * Commits `events`, then waits for every stream to show `value`; answers each stream's latency
 * in ms. Rounds start after a quiet moment longer than the hub's throttle (250 ms), so that the
 * figure is a commit's own latency; under continuous load, updates come every 250 ms.
 */
async function round(streams, events, value) {
  await new Promise((r) => setTimeout(r, 300))
  const res = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers, body: JSON.stringify({ events }) })
  const committed = performance.now()
  if (!res.ok) throw new Error(`ingest: ${res.status}`)
  const arrivals = await Promise.all(streams.map((s) => s.until(value)))
  return arrivals.map((t) => Math.max(0, t - committed))
}

try {
  await api('PUT', '/v1/config', { meters: [{ key: 'renders', event: 'render.completed', aggregation: 'count' }] })
  const customers = Array.from({ length: STREAMS }, (_, i) => `cus_${i}`)
  // The first event of each customer creates it.
  for (let i = 0; i < STREAMS; i += 1000) await api('POST', '/v1/events', { events: customers.slice(i, i + 1000).map((c) => event(`seed-${c}`, c)) })
  await api('POST', '/v1/events', { events: [event('seed-hot', 'cus_hot')] })

  // Shape 1: one stream per customer; each round, one batch with an event for every customer.
  const before = await residentBytes()
  let t = performance.now()
  const spread = await Promise.all(customers.map(openStream))
  const openSeconds = (performance.now() - t) / 1000
  const perStreamBytes = ((await residentBytes()) - before) / STREAMS
  console.log(`${STREAMS} streams open (snapshot received) in ${openSeconds.toFixed(2)} s; collector memory ≈ ${(perStreamBytes / 1024).toFixed(1)} KiB per stream`)
  const spreadMs = []
  for (let r = 0; r < ROUNDS; r++) {
    const events = []
    for (let i = 0; i < STREAMS; i += 1000) {
      const part = customers.slice(i, i + 1000).map((c) => event(`r${r}-${c}`, c))
      events.push(part)
    }
    // Batches of at most 1000: time from the last one's commit.
    for (const [k, part] of events.entries()) {
      if (k < events.length - 1) await api('POST', '/v1/events', { events: part })
      else spreadMs.push(...(await round(spread, part, String(r + 2))))
    }
  }
  const s1 = stats(spreadMs)
  console.log(`one stream per customer, a batch for all: commit → last update p50 ${s1.p50.toFixed(1)} ms, p99 ${s1.p99.toFixed(1)} ms, max ${s1.max.toFixed(1)} ms (target p99 ≤ 1000 ms)`)
  for (const s of spread) s.close()

  // Shape 2: every stream on one customer; each round, one event.
  t = performance.now()
  const hot = await Promise.all(customers.map(() => openStream('cus_hot')))
  const hotOpen = (performance.now() - t) / 1000
  const hotMs = []
  for (let r = 0; r < ROUNDS; r++) hotMs.push(...(await round(hot, [event(`hot-${r}`, 'cus_hot')], String(r + 2))))
  const s2 = stats(hotMs)
  console.log(`${STREAMS} streams on one customer (open in ${hotOpen.toFixed(2)} s): commit → last update p50 ${s2.p50.toFixed(1)} ms, p99 ${s2.p99.toFixed(1)} ms, max ${s2.max.toFixed(1)} ms`)
  for (const s of hot) s.close()

  console.log('::result::' + JSON.stringify({
    name: 'sse',
    figures: [
      { name: `open ${STREAMS} streams`, value: openSeconds, unit: 's' },
      { name: 'collector memory per stream', value: perStreamBytes / 1024, unit: 'KiB' },
      { name: 'commit → update p50 (stream per customer)', value: s1.p50, unit: 'ms' },
      { name: 'commit → update p99 (stream per customer)', value: s1.p99, unit: 'ms', target: '≤ 1000 ms' },
      { name: 'commit → update max (stream per customer)', value: s1.max, unit: 'ms' },
      { name: 'commit → update p50 (all on one customer)', value: s2.p50, unit: 'ms' },
      { name: 'commit → update p99 (all on one customer)', value: s2.p99, unit: 'ms', target: '≤ 1000 ms' },
    ],
  }))
} finally {
  await collector.stop()
}
