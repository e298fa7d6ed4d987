// Load generator, run as its own process: posts pre-built batches of unique events over N
// keep-alive connections for a fixed time and prints { events, seconds, p50Ms, p99Ms } as JSON.
import { Pool } from 'undici'

const [url, apiKey, connections, batchSize, seconds, prefix] = process.argv.slice(2)
const conns = Number(connections)
const size = Number(batchSize)
const durationMs = Number(seconds) * 1000

const pool = new Pool(url, { connections: conns, pipelining: 1, keepAliveTimeout: 60_000 })
let seq = 0
// Bodies are built by templating, so the generator spends little CPU on them.
function body() {
  let out = '{"events":['
  const ts = new Date().toISOString()
  for (let i = 0; i < size; i++) {
    const n = seq++
    // Time-ordered ids, as the SDK's UUIDv7 keys are.
    out += `${i ? ',' : ''}{"id":"${prefix}-${String(n).padStart(10, '0')}","event":"render.completed","customerId":"cus_${n % 1000}","timestamp":"${ts}",` +
      `"properties":{"gpuSeconds":12.5,"resolution":"${n % 3 ? '1080p' : '4k'}","status":"succeeded","clipId":"clip_${n % 5000}"}}`
  }
  return `${out}]}`
}

const latencies = []
let events = 0
let failures = 0
const start = performance.now()
const deadline = start + durationMs

async function worker() {
  while (performance.now() < deadline) {
    const payload = body()
    const t0 = performance.now()
    const res = await pool.request({
      path: '/v1/events',
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: payload,
    })
    const answer = await res.body.json()
    latencies.push(performance.now() - t0)
    // A collector in queue mode answers `queued` for what it published; either way, delivered.
    if (res.statusCode === 200 && answer.accepted + (answer.queued ?? 0) === size) events += size
    else {
      // The first failure says why (the count alone hides a store that refuses writes).
      if (failures === 0) process.stderr.write(`first failed request: ${res.statusCode} ${JSON.stringify(answer).slice(0, 300)}\n`)
      failures++
    }
  }
}

await Promise.all(Array.from({ length: conns }, worker))
const elapsed = (performance.now() - start) / 1000
await pool.close()
latencies.sort((a, b) => a - b)
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
process.stdout.write(JSON.stringify({ events, seconds: elapsed, requests: latencies.length, failures, p50Ms: q(0.5), p99Ms: q(0.99) }) + '\n')
