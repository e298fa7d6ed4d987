// Python SDK benchmark, beside the Node SDK in the same run: track() per call (median, ns) and
// the events/s one process pushes through the SDK into a real collector on loopback, each SDK
// against a fresh `meterkit start` of its own, with the same events and batch size.
// Run after a build (`npx -y pnpm@12.4.2 build`): node test/bench/python-sdk.bench.mjs
// Last line: `::result::` + JSON, for the bench runner.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const PY = join(ROOT, 'test/bench/lib/python_sdk_bench.py')
const KEY = 'mk_sec_bench_0123456789abcdef'
const TOTAL = 100_000
const { Meterkit } = await import(join(ROOT, 'packages/node/dist/index.js'))

const renderEvent = (i) => ({
  event: 'render.completed',
  customerId: `cus_${i % 100}`,
  properties: { gpuSeconds: 12.5, resolution: '4k', status: 'succeeded', frames: 240, model: 'sdxl-turbo' },
})

/** A fresh collector on a temporary database; answers its URL and a stop function. */
async function collector() {
  const dir = mkdtempSync(join(tmpdir(), 'mk-pybench-'))
  const child = spawn(process.execPath, [join(ROOT, 'collector/bin/meterkit.js'), 'start', '--port', '0', '--db', join(dir, 'x.db'), '--admin-key', KEY, '--billing-interval', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) resolve(m[1])
    })
    child.once('exit', (c) => reject(new Error(`collector exited ${c}: ${out}`)))
  })
  return { url, stop: () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) } }
}

function python(args) {
  return JSON.parse(execFileSync('python3', [PY, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').pop())
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

/** Node's track() per call, measured the way the Python half measures it (rounds of 1000, sent between rounds). */
async function nodeTrackCost(url) {
  const mk = new Meterkit({ endpoint: url, apiKey: KEY, flushAt: 1000, maxQueueEvents: 100_000 })
  const events = Array.from({ length: 1000 }, (_, i) => renderEvent(i))
  const empty = []
  for (let i = 0; i < 10_000; i++) {
    const a = process.hrtime.bigint()
    empty.push(Number(process.hrtime.bigint() - a))
  }
  empty.sort((x, y) => x - y)
  const overhead = quantile(empty, 0.5)
  for (let i = 0; i < 20_000; i++) mk.track(events[i % 1000])
  await mk.flush()
  const samples = []
  for (let r = 0; r < 100; r++) {
    for (let i = 0; i < 1000; i++) {
      const a = process.hrtime.bigint()
      mk.track(events[i])
      samples.push(Math.max(0, Number(process.hrtime.bigint() - a) - overhead))
    }
    await mk.flush()
  }
  await mk.shutdown()
  samples.sort((x, y) => x - y)
  return { median: quantile(samples, 0.5), p99: quantile(samples, 0.99) }
}

/** Events/s from this process through the Node SDK into the collector (as sdk.bench.mjs pushes). */
async function nodePush(url) {
  const mk = new Meterkit({ endpoint: url, apiKey: KEY, flushAt: 1000, maxQueueEvents: 50_000, maxConcurrentRequests: 2 })
  const started = process.hrtime.bigint()
  for (let i = 0; i < TOTAL; i++) {
    mk.track({ id: `node-bench-${i}`, ...renderEvent(i) })
    if (i % 5000 === 4999) await new Promise((r) => setImmediate(r))
    while (mk.stats().tracked - mk.stats().acknowledged > 40_000) await new Promise((r) => setTimeout(r, 1))
  }
  await mk.flush()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const stats = mk.stats()
  await mk.shutdown()
  if (stats.acknowledged !== TOTAL) throw new Error(`node push lost events: ${JSON.stringify(stats)}`)
  return TOTAL / seconds
}

async function withCollector(fn) {
  const c = await collector()
  try {
    return await fn(c.url)
  } finally {
    c.stop()
  }
}

const pyCost = await withCollector((url) => python(['track', url, KEY]))
const nodeCost = await withCollector(nodeTrackCost)
console.log(`json encoder (Python baseline): median ${pyCost.baseline.median} ns, p99 ${pyCost.baseline.p99} ns`)
console.log(`Python mk.track(): median ${pyCost.track.median} ns, p99 ${pyCost.track.p99} ns (timer overhead ${pyCost.overhead} ns subtracted)`)
console.log(`Node mk.track():   median ${nodeCost.median} ns, p99 ${nodeCost.p99} ns`)
const pyEps = await withCollector((url) => python(['push', url, KEY, String(TOTAL)]).eventsPerSecond)
const nodeEps = await withCollector(nodePush)
console.log(`Python SDK -> collector on loopback: ${Math.round(pyEps)} events/s; Node SDK: ${Math.round(nodeEps)} events/s (${TOTAL.toLocaleString('en-US')} events, flushAt 1000)`)

const figures = [
  { name: 'python_json_encode_median', value: pyCost.baseline.median, unit: 'ns' },
  { name: 'python_track_median', value: pyCost.track.median, unit: 'ns', baseline: 'python_json_encode_median', ratio: +(pyCost.track.median / Math.max(1, pyCost.baseline.median)).toFixed(2) },
  { name: 'python_track_p99', value: pyCost.track.p99, unit: 'ns' },
  { name: 'node_track_median', value: nodeCost.median, unit: 'ns' },
  { name: 'node_track_p99', value: nodeCost.p99, unit: 'ns' },
  { name: 'python_track_vs_node', value: +(pyCost.track.median / Math.max(1, nodeCost.median)).toFixed(2), unit: 'x', baseline: 'node_track_median', ratio: +(pyCost.track.median / Math.max(1, nodeCost.median)).toFixed(2) },
  { name: 'node_sdk_to_collector_throughput', value: Math.round(nodeEps), unit: 'events/s' },
  { name: 'python_sdk_to_collector_throughput', value: Math.round(pyEps), unit: 'events/s', baseline: 'node_sdk_to_collector_throughput', ratio: +(pyEps / nodeEps).toFixed(2) },
]
console.log(`::result::${JSON.stringify({ name: 'python-sdk', figures })}`)
