// SDK benchmark: track() cost per call against JSON.stringify of the same event, heap bytes per
// queued event, and events/s through the SDK into a real collector on loopback (if built).
// Run after a build (`npx -y pnpm@12.4.2 build`): node test/bench/sdk.bench.mjs
// Last line: `::result::` + JSON, for the bench runner.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { gunzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
// undici is @meterkit/node's dependency, not the root's: resolve it from there.
const { MockAgent } = createRequire(join(ROOT, 'packages/node/package.json'))('undici')
const { Meterkit } = await import(join(ROOT, 'packages/node/dist/index.js'))

const renderEvent = (i) => ({
  event: 'render.completed',
  customerId: `cus_${i % 100}`,
  properties: { gpuSeconds: 12.5, resolution: '4k', status: 'succeeded', frames: 240, model: 'sdxl-turbo' },
})

/** A collector stand-in in memory, so the network never enters the track() figures. */
function mockDispatcher() {
  const agent = new MockAgent()
  agent.disableNetConnect()
  agent.get('http://bench.invalid').intercept({ path: '/v1/events', method: 'POST' }).reply(200, (opts) => {
    // Large batches arrive gzipped.
    const raw = typeof opts.body === 'string' ? opts.body : gunzipSync(Buffer.from(opts.body)).toString('utf8')
    const ids = JSON.parse(raw).events.map((e) => e.id)
    return { accepted: ids.length, duplicates: 0, conflicts: 0, rejected: 0, results: ids.map((id) => ({ id, status: 'accepted' })) }
  }).persist()
  return agent
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** Per-call timings (ns) of `fn`, with the timer's own cost subtracted. */
async function timeCalls(fn, rounds, perRound) {
  const samples = new Float64Array(rounds * perRound)
  const empty = []
  for (let i = 0; i < 10_000; i++) {
    const a = process.hrtime.bigint()
    const b = process.hrtime.bigint()
    empty.push(Number(b - a))
  }
  empty.sort((x, y) => x - y)
  const overhead = quantile(empty, 0.5)
  let k = 0
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) {
      const a = process.hrtime.bigint()
      fn(k)
      const b = process.hrtime.bigint()
      samples[k++] = Math.max(0, Number(b - a) - overhead)
    }
    await new Promise((res) => setImmediate(res)) // let batches go out between rounds
  }
  samples.sort()
  return { median: quantile(samples, 0.5), p99: quantile(samples, 0.99), overhead }
}

async function trackCost() {
  const mk = new Meterkit({ endpoint: 'http://bench.invalid', apiKey: 'mk_sec_bench_0123456789', dispatcher: mockDispatcher(), maxQueueEvents: 1e6 })
  const events = Array.from({ length: 1000 }, (_, i) => renderEvent(i))
  // Warm up both paths.
  for (let i = 0; i < 50_000; i++) mk.track(events[i % 1000])
  for (let i = 0; i < 50_000; i++) JSON.stringify(events[i % 1000])
  await mk.flush()
  const baseline = await timeCalls((k) => JSON.stringify(events[k % 1000]), 200, 1000)
  const track = await timeCalls((k) => mk.track(events[k % 1000]), 200, 1000)
  // Amortized: a tight loop, no per-call timer.
  const n = 200_000
  const a = process.hrtime.bigint()
  for (let i = 0; i < n; i++) mk.track(events[i % 1000])
  const mean = Number(process.hrtime.bigint() - a) / n
  await mk.flush()
  const stats = mk.stats()
  await mk.shutdown()
  if (stats.dropped !== 0) throw new Error(`bench dropped events: ${JSON.stringify(stats)}`)
  return { baseline, track, mean }
}

/** Heap per queued event, measured in a child with --expose-gc. */
function heapPerEvent() {
  const code = `
    const { Meterkit } = await import(${JSON.stringify(join(ROOT, 'packages/node/dist/index.js'))})
    const mk = new Meterkit({ endpoint: 'http://127.0.0.1:9', apiKey: 'mk_sec_bench_0123456789', flushAt: 1000, flushIntervalMs: 1e9, maxQueueEvents: 20000 })
    const make = (i) => ({ event: 'render.completed', customerId: 'cus_' + (i % 100), properties: { gpuSeconds: 12.5 + i, resolution: '4k', status: 'succeeded', frames: 240, model: 'sdxl-turbo' } })
    for (let i = 0; i < 2000; i++) make(i)
    gc(); gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 10000; i++) mk.track(make(i))
    gc(); gc()
    const after = process.memoryUsage().heapUsed
    console.log(JSON.stringify({ perEvent: (after - before) / 10000, queued: mk.stats().tracked }))
    process.exit(0)`
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

/**
 * The SDK's own ceiling: events/s it can track, batch, send and settle when the collector
 * answers at once (an in-process stand-in). Against the real collector's rate, this says
 * whether the SDK or the collector is the bottleneck.
 */
async function ceiling() {
  const mk = new Meterkit({ endpoint: 'http://bench.invalid', apiKey: 'mk_sec_bench_0123456789', dispatcher: mockDispatcher(), flushAt: 1000, maxQueueEvents: 50_000, maxConcurrentRequests: 2 })
  return push(mk, 200_000, 'ceil')
}

/** Tracks `total` events as fast as the SDK takes them (at most 40,000 unacknowledged), flushes, and answers events/s. */
async function push(mk, total, prefix) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < total; i++) {
    mk.track({ id: `${prefix}-${i}`, ...renderEvent(i) })
    if (i % 5000 === 4999) await new Promise((r) => setImmediate(r))
    while (mk.stats().tracked - mk.stats().acknowledged > 40_000) await new Promise((r) => setTimeout(r, 1))
  }
  await mk.flush()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const stats = mk.stats()
  await mk.shutdown()
  if (stats.acknowledged !== total) throw new Error(`${prefix} run lost events: ${JSON.stringify(stats)}`)
  return total / seconds
}

/** Events/s from this process through the SDK into `meterkit start` on loopback. */
async function throughput() {
  const bin = join(ROOT, 'collector/bin/meterkit.js')
  if (!existsSync(bin) || !existsSync(join(ROOT, 'collector/dist/cli/main.js'))) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'mk-bench-'))
  const key = 'mk_sec_bench_0123456789abcdef'
  const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--db', join(dir, 'x.db'), '--admin-key', key], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', (c) => reject(new Error(`collector exited ${c}: ${out}`)))
    })
    const mk = new Meterkit({ endpoint: `http://127.0.0.1:${port}`, apiKey: key, flushAt: 1000, maxQueueEvents: 50_000, maxConcurrentRequests: 2 })
    return await push(mk, 100_000, 'bench')
  } finally {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

const cost = await trackCost()
console.log(`JSON.stringify(event) baseline: median ${cost.baseline.median} ns, p99 ${cost.baseline.p99} ns (timer overhead ${cost.baseline.overhead} ns subtracted)`)
console.log(`mk.track(event):               median ${cost.track.median} ns, p99 ${cost.track.p99} ns; amortized mean ${cost.mean.toFixed(0)} ns/call`)
const heap = heapPerEvent()
console.log(`heap per queued event (10,000 queued, --expose-gc child): ${heap.perEvent.toFixed(0)} bytes`)
const sdkCeiling = await ceiling()
console.log(`SDK ceiling (collector answering at once, in process): ${Math.round(sdkCeiling)} events/s`)
const eps = await throughput()
console.log(eps === undefined ? 'collector not built: throughput skipped' : `SDK → collector on loopback: ${Math.round(eps)} events/s (100,000 events, flushAt 1000)`)

const figures = [
  { name: 'json_stringify_median', value: cost.baseline.median, unit: 'ns' },
  { name: 'track_median', value: cost.track.median, unit: 'ns', baseline: 'json_stringify_median', ratio: +(cost.track.median / Math.max(1, cost.baseline.median)).toFixed(2) },
  { name: 'json_stringify_p99', value: cost.baseline.p99, unit: 'ns' },
  { name: 'track_p99', value: cost.track.p99, unit: 'ns', baseline: 'json_stringify_p99', ratio: +(cost.track.p99 / Math.max(1, cost.baseline.p99)).toFixed(2) },
  { name: 'track_amortized_mean', value: Math.round(cost.mean), unit: 'ns' },
  { name: 'heap_per_queued_event', value: Math.round(heap.perEvent), unit: 'bytes' },
]
if (eps !== undefined) figures.push({ name: 'sdk_to_collector_throughput', value: Math.round(eps), unit: 'events/s' })
figures.push({ name: 'sdk_ceiling', value: Math.round(sdkCeiling), unit: 'events/s', ...(eps === undefined ? {} : { baseline: 'sdk_to_collector_throughput', ratio: +(sdkCeiling / eps).toFixed(2), target: '> 1 (the SDK is not the bottleneck)' }) })
console.log(`::result::${JSON.stringify({ name: 'sdk', figures })}`)
