// Queue mode (collectors → NATS JetStream → workers → PostgreSQL), each stage against its own
// ceiling measured in the same run, on a fresh database and a stream of this run's own
// (MK_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres; MK_BENCH_NATS, default
// nats://127.0.0.1:4222), both dropped after:
//
// - raw JetStream: the messages a collector makes of 500-event batches (one per partition the
//   batch touches, with their Nats-Msg-Id), published asynchronously, 16 batches in flight, no
//   HTTP; then POST /v1/events into one `meterkit start --queue` collector, 16 connections, no
//   worker running: the collector's acknowledgement rate as a ratio to that ceiling;
// - raw PostgreSQL: multi-row INSERT … ON CONFLICT DO NOTHING of 500-row statements over 16
//   connections into a copy of the events table (as postgres.bench.mjs); then the rate at which
//   one worker, and then two, apply a backlog the collector left in the stream;
// - end to end: POST /v1/events into the queue collector while two workers apply, events stored
//   per second, against POST /v1/events into one PostgreSQL collector (no queue) of the same run.
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { openPool, openPostgres } from '@meterkit/engine'
import { CLI, ROOT, startCollector } from './lib/collector.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const BATCH = 500
const CONNECTIONS = 16
const PARTITIONS = 16
const CUSTOMERS = 1000
const ADMIN_URL = process.env.MK_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const NATS_URL = process.env.MK_BENCH_NATS ?? 'nats://127.0.0.1:4222'

const fromCollector = createRequire(new URL('../../collector/package.json', import.meta.url))
const { connect } = await import(fromCollector.resolve('@nats-io/transport-node'))
const { jetstream, jetstreamManager } = await import(fromCollector.resolve('@nats-io/jetstream'))
const { encodeBatch, messageId, partitionOf } = await import(new URL('../../collector/dist/queue/index.js', import.meta.url).href)

const props = (i) => `{"gpuSeconds":12.5,"resolution":"${i % 3 ? '1080p' : '4k'}","status":"succeeded","clipId":"clip_${i % 5000}"}`
const run = promisify(execFile)

/** Runs `work(from)` on `workers` callers at once for `seconds`; answers events per second. */
async function sustained(seconds, workers, work) {
  let next = 0
  let events = 0
  const end = performance.now() + seconds * 1000
  const start = performance.now()
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < end) {
      const from = next
      next += BATCH
      await work(from)
      events += BATCH
    }
  }))
  return events / ((performance.now() - start) / 1000)
}

/** The collector's messages of one 500-event batch, as it publishes them. */
function messagesOf(prefix, from, tenantId = 1) {
  const now = Date.now()
  const parts = new Map()
  for (let i = from; i < from + BATCH; i++) {
    const propertiesJson = props(i)
    const e = { id: `${prefix}-${String(i).padStart(10, '0')}`, event: 'render.completed', customerId: `cus_${i % CUSTOMERS}`, timestampMs: now, properties: undefined, propertiesJson, reservationId: undefined }
    const p = partitionOf(tenantId, e.customerId, PARTITIONS)
    if (!parts.has(p)) parts.set(p, [])
    parts.get(p).push(e)
  }
  return [...parts].map(([p, events]) => ({ p, data: encodeBatch(tenantId, 'server', now, events), msgID: messageId(tenantId, 'server', events) }))
}

async function rawJetStream(js, stream, seconds, prefix) {
  return sustained(seconds, CONNECTIONS, async (from) => {
    await Promise.all(messagesOf(prefix, from).map((m) => js.publish(`${stream}.events.${m.p}`, m.data, { msgID: m.msgID })))
  })
}

async function rawPostgres(pool, seconds, prefix) {
  const placeholders = Array.from({ length: BATCH }, (_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`).join(', ')
  const text = `INSERT INTO raw_events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at) VALUES ${placeholders}
    ON CONFLICT (tenant_id, id) DO NOTHING`
  return sustained(seconds, CONNECTIONS, async (from) => {
    const now = Date.now()
    const values = []
    for (let i = from; i < from + BATCH; i++) values.push(1, `${prefix}-${String(i).padStart(10, '0')}`, 'render.completed', `cus_${i % CUSTOMERS}`, now, props(i), null, 'server', now)
    await pool.query({ name: 'raw_insert', text, values })
  })
}

async function storeAppend(storage, seconds, prefix) {
  return sustained(seconds, CONNECTIONS, async (from) => {
    const now = Date.now()
    const events = []
    for (let i = from; i < from + BATCH; i++) {
      const propertiesJson = props(i)
      events.push({ id: `${prefix}-${String(i).padStart(10, '0')}`, event: 'render.completed', customerId: `cus_${i % CUSTOMERS}`, timestampMs: now, properties: JSON.parse(propertiesJson), propertiesJson, reservationId: undefined })
    }
    await storage.append({ tenantId: 1, source: 'server', receivedAtMs: now, events })
  })
}

/** POST /v1/events through a collector for `seconds`; events acknowledged per second. */
async function load(url, key, seconds, prefix) {
  const loadgen = new URL('./lib/loadgen.mjs', import.meta.url).pathname
  const { stdout } = await run(process.execPath, [loadgen, url, key, String(CONNECTIONS), String(BATCH), String(seconds), prefix], { encoding: 'utf8' })
  const r = JSON.parse(stdout.trim().split('\n').pop())
  return { rate: r.events / r.seconds, events: r.events, failures: r.failures }
}

function startWorker(storeUrl, stream) {
  const child = spawn(process.execPath, [CLI, 'worker', '--store', storeUrl, '--queue', NATS_URL, '--queue-stream', stream, '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c) => {
      out += c
      if (out.includes('meterkit worker running')) resolve({ child, stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))) })
    })
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
  })
}

const storedCount = async (pool) => (await pool.query('SELECT coalesce(max(seq), 0)::bigint AS n FROM events')).rows[0].n

/** Starts `n` workers, waits until `target` events are stored; answers events applied per second. */
async function drain(pool, storeUrl, stream, n, target) {
  const before = await storedCount(pool)
  const started = performance.now()
  const workers = await Promise.all(Array.from({ length: n }, () => startWorker(storeUrl, stream)))
  try {
    while (await storedCount(pool) < target) await new Promise((r) => setTimeout(r, 50))
    return (target - before) / ((performance.now() - started) / 1000)
  } finally {
    await Promise.all(workers.map((w) => w.stop()))
  }
}

const name = `mk_bench_${randomBytes(4).toString('hex')}`
const stream = `mk_bench_${randomBytes(4).toString('hex')}`
const admin = openPool(ADMIN_URL, { max: 1 })
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(ADMIN_URL)
url.pathname = `/${name}`
const storeUrl = url.toString()
const nc = await connect({ servers: NATS_URL })
const jsm = await jetstreamManager(nc)
try {
  const store = await openPostgres(storeUrl, { max: CONNECTIONS })
  try {
    // The ceilings. The raw stream is a work queue of the same partitions, never consumed.
    const rawStream = `${stream}_raw`
    await jsm.streams.add({ name: rawStream, subjects: Array.from({ length: PARTITIONS }, (_, p) => `${rawStream}.events.${p}`), retention: 'workqueue', storage: 'file', discard: 'new', max_bytes: 4 * 1024 ** 3 })
    const js = jetstream(nc)
    await rawJetStream(js, rawStream, 2, 'warm')
    const rawJs = await rawJetStream(js, rawStream, SECONDS, 'run')
    await jsm.streams.delete(rawStream)
    console.log(`raw JetStream ceiling (async publishes of the collector's messages of ${BATCH}-event batches, ${CONNECTIONS} batches in flight): ${Math.round(rawJs).toLocaleString()} events/s`)
    await store.pool.query('CREATE TABLE raw_events (LIKE events INCLUDING ALL)')
    await store.pool.query('ALTER TABLE raw_events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY')
    await rawPostgres(store.pool, 2, 'warm')
    const rawPg = await rawPostgres(store.pool, SECONDS, 'run')
    await store.pool.query('DROP TABLE raw_events')
    // The store's own append path, which workers (and collectors) write through: 16 callers.
    await storeAppend(store.storage, 2, 'warma')
    const appended = await storeAppend(store.storage, SECONDS, 'append')
    console.log(`PostgresStorage.append (${BATCH}-event batches, ${CONNECTIONS} callers): ${Math.round(appended).toLocaleString()} events/s, ${(appended / rawPg * 100).toFixed(1)}% of the raw PostgreSQL ceiling`)
    console.log(`raw PostgreSQL ceiling (multi-row INSERT … ON CONFLICT, ${BATCH}-row statements, ${CONNECTIONS} connections): ${Math.round(rawPg).toLocaleString()} rows/s`)

    // One PostgreSQL collector, no queue: the end-to-end baseline.
    const direct = await startCollector({ dbPath: storeUrl })
    let viaDirect
    try {
      await load(direct.url, direct.adminKey, 2, 'warmd')
      viaDirect = (await load(direct.url, direct.adminKey, SECONDS, 'direct')).rate
    } finally {
      await direct.stop()
    }
    console.log(`one PostgreSQL collector, POST /v1/events: ${Math.round(viaDirect).toLocaleString()} events/s stored`)

    const queued = await startCollector({ dbPath: storeUrl, args: ['--queue', NATS_URL, '--queue-stream', stream] })
    let acked
    let oneWorker
    let twoWorkers
    let endToEnd
    try {
      // Acknowledgements alone: no worker runs, the backlog stays in the stream.
      await load(queued.url, queued.adminKey, 2, 'warmq')
      const first = await load(queued.url, queued.adminKey, SECONDS, 'queued1')
      acked = first.rate
      console.log(`POST /v1/events into JetStream through one queue-mode collector: ${Math.round(acked).toLocaleString()} events/s acknowledged, ${(acked / rawJs * 100).toFixed(1)}% of the raw JetStream ceiling (target ≥ 50%)`)
      const base = await storedCount(store.pool)
      // The warm-up's and the run's events wait in the stream: one worker applies them all.
      const backlog1 = (await jsm.streams.info(stream)).state.messages
      oneWorker = await drain(store.pool, storeUrl, stream, 1, base + (await backlogEvents()))
      console.log(`one worker applying a backlog of ${backlog1} messages: ${Math.round(oneWorker).toLocaleString()} events/s, ${(oneWorker / rawPg * 100).toFixed(1)}% of the raw PostgreSQL ceiling (target ≥ 50%)`)
      await load(queued.url, queued.adminKey, SECONDS, 'queued2')
      const base2 = await storedCount(store.pool)
      twoWorkers = await drain(store.pool, storeUrl, stream, 2, base2 + (await backlogEvents()))
      console.log(`two workers applying a backlog: ${Math.round(twoWorkers).toLocaleString()} events/s, ${(twoWorkers / rawPg * 100).toFixed(1)}% of the raw PostgreSQL ceiling`)

      // End to end: ingest and two workers at once; events stored per second over the run.
      const workers = await Promise.all([startWorker(storeUrl, stream), startWorker(storeUrl, stream)])
      try {
        await load(queued.url, queued.adminKey, 2, 'warme')
        const before = await storedCount(store.pool)
        const started = performance.now()
        await load(queued.url, queued.adminKey, SECONDS, 'e2e')
        endToEnd = (await storedCount(store.pool) - before) / ((performance.now() - started) / 1000)
      } finally {
        await Promise.all(workers.map((w) => w.stop()))
      }
      console.log(`end to end (one queue-mode collector, two workers): ${Math.round(endToEnd).toLocaleString()} events/s stored, ${(endToEnd / viaDirect).toFixed(2)}× one PostgreSQL collector (target > 1)`)
    } finally {
      await queued.stop()
    }

    /** Events waiting in the stream (each message's event count, read back without consuming). */
    async function backlogEvents() {
      // Every loadgen batch is acknowledged whole, so the stream holds 500 events per acknowledged batch.
      const info = await jsm.streams.info(stream)
      let events = 0
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined)
        if (m !== undefined) events += JSON.parse(new TextDecoder().decode(m.data)).e.length
      }
      return events
    }

    console.log('::result::' + JSON.stringify({
      name: 'queue',
      figures: [
        { name: 'raw JetStream ceiling', value: Math.round(rawJs), unit: 'events/s' },
        { name: 'POST /v1/events, queue-mode collector (acknowledged)', value: Math.round(acked), unit: 'events/s', baseline: 'raw JetStream ceiling', ratio: acked / rawJs, target: '≥ 0.50' },
        { name: 'raw PostgreSQL ceiling', value: Math.round(rawPg), unit: 'rows/s' },
        { name: 'PostgresStorage.append', value: Math.round(appended), unit: 'events/s', baseline: 'raw PostgreSQL ceiling', ratio: appended / rawPg },
        { name: 'one worker, applying a backlog', value: Math.round(oneWorker), unit: 'events/s', baseline: 'raw PostgreSQL ceiling', ratio: oneWorker / rawPg, target: '≥ 0.50' },
        { name: 'two workers, applying a backlog', value: Math.round(twoWorkers), unit: 'events/s', baseline: 'raw PostgreSQL ceiling', ratio: twoWorkers / rawPg, target: '≥ 0.50' },
        { name: 'POST /v1/events, one PostgreSQL collector', value: Math.round(viaDirect), unit: 'events/s' },
        { name: 'end to end, one queue-mode collector and two workers', value: Math.round(endToEnd), unit: 'events/s', baseline: 'POST /v1/events, one PostgreSQL collector', ratio: endToEnd / viaDirect, target: '> 1' },
      ],
    }))
  } finally {
    await store.close()
  }
} finally {
  await jsm.streams.delete(stream).catch(() => undefined)
  await nc.close()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
