// SDK benchmark: track() cost per call (median, p99) against two same-run baselines on the same
// events (JSON.stringify of the event, what serializing at track() would cost at least; and a
// bare array push, the floor of queueing anything), in durability 'flush' (memory only) and
// 'track' (bufferDir, group appends); heap bytes per queued event; events/s through the SDK into
// a real collector on loopback (if built), and the SDK's own ceiling in both durabilities.
// Run after a build (`npx -y pnpm@12.4.2 build`): node --expose-gc test/bench/sdk.bench.mjs
// Last line: `::result::` + JSON, for the bench runner.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { gunzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { startCollector } from './lib/collector.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
// undici is @meterkit/node's dependency, not the root's: resolve it from there.
const { MockAgent } = createRequire(join(ROOT, 'packages/node/package.json'))('undici')
const NODE_SDK = join(ROOT, 'packages/node/dist/index.js')
const { Meterkit, DiskBuffer } = await import(NODE_SDK)
const KEY = 'mk_sec_bench_0123456789'
const WINDOW_MS = 5

const renderEvent = (i) => ({
  event: 'render.completed',
  customerId: `cus_${i % 100}`,
  properties: { gpuSeconds: 12.5, resolution: '4k', status: 'succeeded', frames: 240, model: 'sdxl-turbo' },
})

/** Group appends of durability 'track', counted at the disk buffer's door. */
const groups = { appends: 0, events: 0 }
const appendClaimed = DiskBuffer.prototype.appendClaimed
DiskBuffer.prototype.appendClaimed = function (events) {
  groups.appends++
  groups.events += events.length
  return appendClaimed.call(this, events)
}

const dirs = []
function bufferDir() {
  const dir = mkdtempSync(join(tmpdir(), 'mk-bench-buffer-'))
  dirs.push(dir)
  return dir
}

/**
 * A collector stand-in in memory, so the network never enters the track() figures; it answers
 * after `delayMs` (a real collector's commit and round trip take milliseconds: with durability
 * 'track', an answer quicker than the window would leave nothing to write).
 */
function mockDispatcher(delayMs = 0) {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const reply = agent.get('http://bench.invalid').intercept({ path: '/v1/events', method: 'POST' }).reply(200, (opts) => {
    // Large batches arrive gzipped.
    const raw = typeof opts.body === 'string' ? opts.body : gunzipSync(Buffer.from(opts.body)).toString('utf8')
    const ids = JSON.parse(raw).events.map((e) => e.id)
    return { accepted: ids.length, duplicates: 0, conflicts: 0, rejected: 0, results: ids.map((id) => ({ id, status: 'accepted' })) }
  })
  if (delayMs > 0) reply.delay(delayMs)
  reply.persist()
  return agent
}
const ANSWER_MS = 20

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** Per-call timings (ns) of `fn`, with the timer's own cost subtracted; `pause` between rounds of `perRound` calls. */
async function timeCalls(fn, rounds, perRound, pause) {
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
    await pause()
  }
  samples.sort()
  return { median: quantile(samples, 0.5), p99: quantile(samples, 0.99), overhead }
}

const nextTurn = () => new Promise((res) => setImmediate(res))
// In durability 'track', rounds are a window apart so group appends run between them, as they
// would in a worker doing other work between events.
const nextWindow = () => new Promise((res) => setTimeout(res, WINDOW_MS))

async function trackCost() {
  const events = Array.from({ length: 1000 }, (_, i) => renderEvent(i))
  const flushMode = new Meterkit({ endpoint: 'http://bench.invalid', apiKey: KEY, dispatcher: mockDispatcher(), maxQueueEvents: 1e6 })
  const trackMode = new Meterkit({
    endpoint: 'http://bench.invalid', apiKey: KEY, dispatcher: mockDispatcher(ANSWER_MS), maxQueueEvents: 1e6, maxConcurrentRequests: 8,
    bufferDir: bufferDir(), durability: 'track', durabilityWindowMs: WINDOW_MS,
  })
  const sink = []
  // Warm up every path.
  for (let i = 0; i < 50_000; i++) flushMode.track(events[i % 1000])
  for (let i = 0; i < 50_000; i++) trackMode.track(events[i % 1000])
  for (let i = 0; i < 50_000; i++) JSON.stringify(events[i % 1000])
  for (let i = 0; i < 50_000; i++) sink.push(events[i % 1000])
  await flushMode.flush()
  await trackMode.flush()
  sink.length = 0
  const stringify = await timeCalls((k) => JSON.stringify(events[k % 1000]), 200, 1000, nextTurn)
  const push = await timeCalls((k) => sink.push(events[k % 1000]), 200, 1000, () => ((sink.length = 0), nextTurn()))
  const flush = await timeCalls((k) => flushMode.track(events[k % 1000]), 200, 1000, nextTurn)
  const appendsBefore = { ...groups }
  const track = await timeCalls((k) => trackMode.track(events[k % 1000]), 200, 1000, nextWindow)
  await trackMode.flush()
  const group = { appends: groups.appends - appendsBefore.appends, events: groups.events - appendsBefore.events }
  // Amortized: a tight loop, no per-call timer; nothing leaves during it, so the garbage collector
  // works through a queue growing to 200,000 events.
  const n = 200_000
  const a = process.hrtime.bigint()
  for (let i = 0; i < n; i++) flushMode.track(events[i % 1000])
  const mean = Number(process.hrtime.bigint() - a) / n
  await flushMode.flush()
  for (const mk of [flushMode, trackMode]) {
    const stats = mk.stats()
    await mk.shutdown()
    if (stats.dropped !== 0 || mk.stats().buffered !== 0) throw new Error(`bench lost events: ${JSON.stringify(mk.stats())}`)
  }
  return { stringify, push, flush, track, mean, group }
}

/** Heap per queued event, measured in a child with --expose-gc: 10,000 events held, none answered. */
function heapPerEvent(durability) {
  const code = `
    const { MockAgent } = (await import('node:module')).createRequire(${JSON.stringify(join(ROOT, 'packages/node/package.json'))})('undici')
    const { mkdtempSync } = await import('node:fs')
    const { Meterkit } = await import(${JSON.stringify(NODE_SDK)})
    const agent = new MockAgent()
    agent.disableNetConnect()
    agent.get('http://bench.invalid').intercept({ path: '/v1/events', method: 'POST' }).reply(200, {}).delay(1e9).persist()
    const track = ${durability === 'track'}
    const mk = new Meterkit({ endpoint: 'http://bench.invalid', apiKey: ${JSON.stringify(KEY)}, dispatcher: agent, flushAt: 1000, flushIntervalMs: 1e9, maxQueueEvents: 20000,
      ...(track ? { bufferDir: mkdtempSync('/tmp/mk-bench-heap-'), durability: 'track' } : {}) })
    const make = (i) => ({ event: 'render.completed', customerId: 'cus_' + (i % 100), properties: { gpuSeconds: 12.5 + i, resolution: '4k', status: 'succeeded', frames: 240, model: 'sdxl-turbo' } })
    for (let i = 0; i < 2000; i++) make(i)
    if (track) await mk.flush()
    gc(); gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 10000; i++) mk.track(make(i))
    // 'track': once the group append is done (each event's JSON written), two requests hanging.
    if (track) await mk.flush()
    gc(); gc()
    const after = process.memoryUsage().heapUsed
    console.log(JSON.stringify({ perEvent: (after - before) / 10000, stats: mk.stats() }))
    process.exit(0)`
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

/**
 * The SDK's own ceiling: events/s it can track, batch, send and settle when the collector
 * answers at once (an in-process stand-in). Against the real collector's rate, this says
 * whether the SDK or the collector is the bottleneck.
 */
async function ceiling(delayMs, options = {}) {
  const mk = new Meterkit({ endpoint: 'http://bench.invalid', apiKey: KEY, dispatcher: mockDispatcher(delayMs), flushAt: 1000, maxQueueEvents: 50_000, maxConcurrentRequests: 2, ...options })
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
  await mk.shutdown()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const stats = mk.stats()
  if (stats.acknowledged !== total) throw new Error(`${prefix} run lost events: ${JSON.stringify(stats)}`)
  return total / seconds
}

/** Events/s from this process through the SDK into `meterkit start` on loopback. */
async function throughput() {
  if (!existsSync(join(ROOT, 'collector/dist/cli/main.js'))) return undefined
  const collector = await startCollector({ adminKey: 'mk_sec_bench_0123456789abcdef' })
  try {
    const mk = new Meterkit({ endpoint: collector.url, apiKey: collector.adminKey, flushAt: 1000, maxQueueEvents: 50_000, maxConcurrentRequests: 2 })
    return await push(mk, 100_000, 'bench')
  } finally {
    await collector.stop()
    rmSync(dirname(collector.dbPath), { recursive: true, force: true })
  }
}

const cost = await trackCost()
const line = (name, r) => console.log(`${name.padEnd(44)} median ${String(r.median).padStart(5)} ns, p99 ${String(r.p99).padStart(6)} ns`)
console.log(`per call, 200,000 calls each (timer overhead ${cost.flush.overhead} ns subtracted):`)
line('baseline: array push of the event', cost.push)
line('baseline: JSON.stringify(event)', cost.stringify)
line("mk.track(event), durability 'flush'", cost.flush)
line(`mk.track(event), durability 'track' (${WINDOW_MS} ms)`, cost.track)
console.log(`  'track' (answers after ${ANSWER_MS} ms): ${cost.group.appends} group appends, ${cost.group.events} events written (the rest acknowledged before their group went)`)
console.log(`mk.track(event) amortized over a 200,000-event tight loop: ${cost.mean.toFixed(0)} ns/call`)
const heapFlush = heapPerEvent('flush')
const heapTrack = heapPerEvent('track')
console.log(`heap per queued event (10,000 held, --expose-gc child): 'flush' ${heapFlush.perEvent.toFixed(0)} bytes, 'track' after its group append ${heapTrack.perEvent.toFixed(0)} bytes`)
const sdkCeiling = await ceiling(0)
console.log(`SDK ceiling (collector answering at once, in process): ${Math.round(sdkCeiling)} events/s`)
const slowCeiling = await ceiling(ANSWER_MS)
groups.appends = groups.events = 0
const trackCeiling = await ceiling(ANSWER_MS, { bufferDir: bufferDir(), durability: 'track', durabilityWindowMs: WINDOW_MS })
console.log(`SDK ceiling, answers after ${ANSWER_MS} ms: 'flush' ${Math.round(slowCeiling)} events/s, 'track' ${Math.round(trackCeiling)} events/s (${groups.appends} group appends, ${(groups.events / Math.max(1, groups.appends)).toFixed(0)} events each)`)
const eps = await throughput()
console.log(eps === undefined ? 'collector not built: throughput skipped' : `SDK → collector on loopback: ${Math.round(eps)} events/s (100,000 events, flushAt 1000)`)
for (const dir of dirs) rmSync(dir, { recursive: true, force: true })

const ratio = (a, b) => +(a / Math.max(1, b)).toFixed(2)
const figures = [
  { name: 'array_push_median', value: cost.push.median, unit: 'ns' },
  { name: 'json_stringify_median', value: cost.stringify.median, unit: 'ns' },
  { name: 'track_median', value: cost.flush.median, unit: 'ns', baseline: 'json_stringify_median', ratio: ratio(cost.flush.median, cost.stringify.median), target: '≤ 1,000 ns' },
  { name: 'track_durable_median', value: cost.track.median, unit: 'ns', baseline: 'json_stringify_median', ratio: ratio(cost.track.median, cost.stringify.median), target: '≤ 1,000 ns' },
  { name: 'array_push_p99', value: cost.push.p99, unit: 'ns' },
  { name: 'json_stringify_p99', value: cost.stringify.p99, unit: 'ns' },
  { name: 'track_p99', value: cost.flush.p99, unit: 'ns', baseline: 'json_stringify_p99', ratio: ratio(cost.flush.p99, cost.stringify.p99), target: '≤ 10,000 ns' },
  { name: 'track_durable_p99', value: cost.track.p99, unit: 'ns', baseline: 'json_stringify_p99', ratio: ratio(cost.track.p99, cost.stringify.p99), target: '≤ 10,000 ns' },
  { name: 'track_durable_events_per_group_append', value: +(cost.group.events / Math.max(1, cost.group.appends)).toFixed(1), unit: 'events' },
  { name: 'track_amortized_mean', value: Math.round(cost.mean), unit: 'ns' },
  { name: 'heap_per_queued_event', value: Math.round(heapFlush.perEvent), unit: 'bytes', target: '≤ 500' },
  { name: 'heap_per_queued_event_durable', value: Math.round(heapTrack.perEvent), unit: 'bytes', baseline: 'heap_per_queued_event', ratio: ratio(heapTrack.perEvent, heapFlush.perEvent) },
]
if (eps !== undefined) figures.push({ name: 'sdk_to_collector_throughput', value: Math.round(eps), unit: 'events/s' })
figures.push({ name: 'sdk_ceiling', value: Math.round(sdkCeiling), unit: 'events/s', ...(eps === undefined ? {} : { baseline: 'sdk_to_collector_throughput', ratio: ratio(sdkCeiling, eps), target: '> 1 (the SDK is not the bottleneck)' }) })
figures.push({ name: `sdk_ceiling_answer_${ANSWER_MS}ms`, value: Math.round(slowCeiling), unit: 'events/s' })
figures.push({ name: `sdk_ceiling_durable_answer_${ANSWER_MS}ms`, value: Math.round(trackCeiling), unit: 'events/s', baseline: `sdk_ceiling_answer_${ANSWER_MS}ms`, ratio: ratio(trackCeiling, slowCeiling) })
console.log(`::result::${JSON.stringify({ name: 'sdk', figures })}`)
