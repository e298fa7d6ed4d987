// Queue mode against a real NATS JetStream and a real PostgreSQL database: the collector answers
// `queued` once the stream holds a batch, workers store each event once and ack after commit,
// share the partitions and take over those of a worker that stops, and ingest answers 503 when
// the stream is full or NATS is away.
import { PARTITION_LOCK_NAMESPACE, PartitionLeases, PostgresStore, hashKey, newSecretKey, randomBase62 } from '@meterkit/engine'
import { ADMIN_URL, createTestDatabase, postgresAvailable, type TestDatabase } from '@meterkit/engine/testing'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from '../app.js'
import { createLogger } from '../logger.js'
import { CollectorQueue } from './collector-queue.js'
import { encodeBatch } from './message.js'
import type { QueueOptions } from './options.js'
import { type QueueConnection, connectQueue, ensureConsumer } from './stream.js'
import { NatsServer, deleteStream, natsAvailable, natsServerAvailable, tcpProxy, testQueue } from './testing.js'
import { QueueWorker } from './worker.js'
import { partitionOf as partitionOfEvent } from './partition.js'
const postgres = await postgresAvailable()
const nats = await natsAvailable()
const available = postgres === true && nats === true ? true : [postgres, nats].filter((r) => r !== true).join('; ')

const quiet = () => undefined

async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined)
})

/** A collector app in queue mode over a fresh database and stream; workers added on demand. */
async function setup(overrides: Partial<QueueOptions> = {}, collectorStoreUrl?: (url: string) => string) {
  const db: TestDatabase = await createTestDatabase()
  cleanups.push(() => db.drop())
  const store = await PostgresStore.open(collectorStoreUrl?.(db.url) ?? db.url, { foldIntervalMs: 0, connectTimeoutMs: 1000 })
  cleanups.push(() => store.close())
  const options = testQueue(overrides)
  cleanups.push(() => deleteStream(options.servers, options.stream))
  const tenant = await store.defaultTenant('default', Date.now())
  const key = newSecretKey()
  await store.putApiKey({ id: `key_${randomBase62(12)}`, tenantId: tenant.id, hash: hashKey(key), name: 'test' }, Date.now())
  const queue = await CollectorQueue.open(options)
  cleanups.push(() => queue.close())
  const app = createApp({
    store, keyCacheTtlMs: 0, checkResponses: true, log: quiet, logger: createLogger({ level: 'silent' }),
    ingestSink: queue.publisher, readiness: () => queue.health.problem(), liveRelay: queue.relay,
  })
  cleanups.push(async () => app.context.live.close())
  const post = async (events: unknown[]) => {
    const res = await app.request('/v1/events', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ events }) })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any }
  }
  const readyz = async () => {
    const res = await app.request('/readyz')
    return { status: res.status, body: (await res.json()) as { error?: { message: string } } }
  }
  const streamState = async () => (await queue.connection.jsm.streams.info(options.stream)).state
  const stored = async () => (await store.listEvents(tenant.id, { limit: 1000 })).data
  const workers: { worker: QueueWorker; connection: QueueConnection; store: PostgresStore; leases: PartitionLeases }[] = []
  const startWorker = async (roundMs = 3_600_000) => {
    const connection = await connectQueue(options, 'test worker')
    const workerStore = await PostgresStore.open(db.url, { foldIntervalMs: 0 })
    const leases = PartitionLeases.open(db.url)
    const worker = new QueueWorker({ store: workerStore, leases, queue: connection, log: quiet, roundMs, retryDelayMs: 100 })
    const entry = { worker, connection, store: workerStore, leases }
    workers.push(entry)
    cleanups.push(async () => {
      await worker.close()
      await connection.nc.close()
      await workerStore.close()
    })
    await worker.start()
    return entry
  }
  return { db, store, options, tenant, key, queue, app, post, readyz, streamState, stored, startWorker, workers }
}

const now = () => new Date().toISOString()
const events = (prefix: string, n: number, customers = 5) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, event: 'render.completed', customerId: `cus_${i % customers}`, timestamp: now(), properties: { gpuSeconds: i } }))

describe.runIf(available === true)('queue mode (NATS JetStream and PostgreSQL)', () => {
  it('answers queued once the stream holds the batch, and a resent batch is dropped as a copy', async () => {
    const t = await setup()
    const batch = [...events('q', 20), { id: 'bad id', event: 'e', customerId: 'c', timestamp: now() }]
    const first = await t.post(batch)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ accepted: 0, duplicates: 0, conflicts: 0, rejected: 1, queued: 20 })
    expect(first.body.results.slice(0, 20).every((r: { status: string }) => r.status === 'queued')).toBe(true)
    expect(first.body.results[20]).toMatchObject({ status: 'rejected', code: 'invalid_id' })
    const held = await t.streamState()
    // One message per partition the batch touches (5 customers, 8 partitions).
    expect(held.messages).toBeGreaterThan(0)
    expect(held.messages).toBeLessThanOrEqual(5)
    const again = await t.post(batch)
    expect(again.body).toMatchObject({ queued: 20, rejected: 1 })
    expect((await t.streamState()).messages).toBe(held.messages)
    // Nothing is stored before a worker applies it.
    expect(await t.stored()).toEqual([])
    expect((await t.readyz()).status).toBe(200)
  })

  it('a worker stores each event once, acks after the commit, and a message delivered again changes nothing', async () => {
    const t = await setup()
    const batch = events('w', 50)
    expect((await t.post(batch)).body.queued).toBe(50)
    const { worker } = await t.startWorker()
    await waitFor(async () => (await t.stored()).length === 50 && (await t.streamState()).messages === 0, 'the batch applied and acked')
    expect(worker.counts).toMatchObject({ accepted: 50, duplicate: 0, conflict: 0 })
    // The same events under another message id (past JetStream's duplicate window, or cut
    // differently by a client): the database's unique key makes them duplicates.
    const valid = batch.map((e) => ({ ...e, timestampMs: Date.parse(e.timestamp), propertiesJson: JSON.stringify(e.properties), reservationId: undefined }))
    const js = t.queue.connection.js
    for (let p = 0; p < t.options.partitions; p++) {
      const part = valid.filter((e) => partitionOfEvent(t.tenant.id, e.customerId, t.options.partitions) === p)
      if (part.length > 0) await js.publish(t.queue.connection.layout.subject(p), encodeBatch(t.tenant.id, 'server', Date.now(), part), { msgID: `again-${p}` })
    }
    // One id with other content: a conflict, and the stored event stays as it was.
    const changed = { ...valid[0]!, properties: { gpuSeconds: 999 }, propertiesJson: '{"gpuSeconds":999}' }
    await js.publish(t.queue.connection.layout.subject(partitionOfEvent(t.tenant.id, changed.customerId, t.options.partitions)), encodeBatch(t.tenant.id, 'server', Date.now(), [changed]), { msgID: 'conflict' })
    await waitFor(() => worker.counts.duplicate === 50 && worker.counts.conflict === 1, 'the copies applied')
    expect((await t.stored()).length).toBe(50)
    expect((await t.store.getEvent(t.tenant.id, 'w-0'))!.properties).toEqual({ gpuSeconds: 0 })
    expect((await t.streamState()).messages).toBe(0)
  })

  it('workers share the partitions, one holder each, and take over those of a worker that stops or loses its lease connection', async () => {
    const t = await setup()
    const a = await t.startWorker()
    expect(a.worker.partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const b = await t.startWorker()
    // b joins: it finds every partition held; a gives up its surplus; b takes it.
    expect(b.worker.partitions).toEqual([])
    await a.worker.round()
    await b.worker.round()
    expect(a.worker.partitions).toEqual([0, 1, 2, 3])
    expect(b.worker.partitions).toEqual([4, 5, 6, 7])
    expect((await t.post(events('s', 40, 16))).body.queued).toBe(40)
    await waitFor(async () => (await t.stored()).length === 40, 'both workers applied their part')
    expect(a.worker.counts.accepted + b.worker.counts.accepted).toBe(40)
    expect(a.worker.counts.accepted).toBeGreaterThan(0)
    expect(b.worker.counts.accepted).toBeGreaterThan(0)

    // a's lease connection is cut (its leases are gone with it): a stops, b takes everything.
    const client = new pg.Client({ connectionString: t.db.url })
    await client.connect()
    try {
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = $1 AND classid = $2 AND objid = 0 AND objsubid = 2',
        ['advisory', PARTITION_LOCK_NAMESPACE])
    } finally {
      await client.end()
    }
    await waitFor(() => a.worker.partitions.length === 0, 'a stopping its partitions')
    await b.worker.round()
    expect(b.worker.partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect((await t.post(events('t', 40, 16))).body.queued).toBe(40)
    await waitFor(async () => (await t.stored()).length === 80, 'b applied everything')
    // a comes back at its next round and gets its share again from b.
    await a.worker.round()
    await b.worker.round()
    await a.worker.round()
    expect(a.worker.partitions.length + b.worker.partitions.length).toBe(8)
    expect(new Set([...a.worker.partitions, ...b.worker.partitions]).size).toBe(8)
    expect(a.worker.partitions.length).toBe(4)
  })

  it('delivers again at once what a holder that died had received and not acked', async () => {
    const t = await setup({ partitions: 1 })
    expect((await t.post(events('d', 30))).body.queued).toBe(30)
    // A worker that took the messages and died before acking (no ack, no nak).
    const { jsm, js, layout } = t.queue.connection
    await ensureConsumer(t.queue.connection, 0)
    const taken = await (await js.consumers.get(layout.name, layout.consumer(0))).fetch({ max_messages: 100, expires: 2000 })
    let n = 0
    for await (const _ of taken) n++
    expect(n).toBeGreaterThan(0)
    expect((await jsm.consumers.info(layout.name, layout.consumer(0))).num_ack_pending).toBe(n)
    // Well within the 30 s ack wait: the new holder's consumer is made anew.
    const { worker } = await t.startWorker()
    await waitFor(async () => (await t.stored()).length === 30, 'the unacked messages applied', 10_000)
    expect(worker.counts.accepted).toBe(30)
  })

  it('answers 503 with Retry-After while the stream is full, says so in readyz, and takes events again once workers drain it', async () => {
    const t = await setup({ maxBytes: 1024 * 1024 })
    const big = (prefix: string) => Array.from({ length: 500 }, (_, i) => ({ id: `${prefix}-${i}`, event: 'e', customerId: `cus_${i % 3}`, timestamp: now(), properties: { pad: 'x'.repeat(1000) } }))
    let refused
    const acknowledged = new Set<string>()
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const r = await t.post(big(`f${i}`))
      if (r.status === 200) for (const e of r.body.results) acknowledged.add(e.id)
      else refused = r
    }
    expect(acknowledged.size).toBeGreaterThan(0)
    expect(refused).toBeDefined()
    expect(refused!.status).toBe(503)
    expect(refused!.retryAfter).toBe('5')
    expect(refused!.body.error.code).toBe('unavailable')
    expect(refused!.body.error.message).toContain('is full')
    const ready = await t.readyz()
    expect(ready.status).toBe(503)
    expect(ready.body.error!.message).toMatch(/full|refused a write/)
    await t.startWorker()
    await waitFor(async () => (await t.streamState()).messages === 0, 'the stream drained')
    // Everything acknowledged was in the stream, and is stored now (with the parts of the
    // refused batch that made it in: the client sends that batch again); it can go in now.
    const storedIds = new Set((await t.store.listEvents(t.tenant.id, { limit: 1000 })).data.map((e) => e.id))
    expect([...acknowledged].filter((id) => !storedIds.has(id))).toEqual([])
    const retry = await t.post(big('after'))
    expect(retry.status).toBe(200)
  })
})

describe.runIf(available === true)('queue mode with the database away', () => {
  it('keeps taking ingest, ready, while the collector cannot reach PostgreSQL; workers store it all once the database is back', async () => {
    const proxy = await tcpProxy(Number(new URL(ADMIN_URL).port || 5432), new URL(ADMIN_URL).hostname)
    cleanups.push(() => proxy.close())
    const t = await setup({}, (url) => {
      const through = new URL(url)
      through.host = `127.0.0.1:${proxy.port}`
      return through.toString()
    })
    expect((await t.post(events('before', 10))).status).toBe(200)
    proxy.cut()
    // The database is out of reach: reads fail, but the key known a moment ago still sends events.
    const during = await t.post(events('during', 10))
    expect(during.status, JSON.stringify(during.body)).toBe(200)
    expect(during.body.queued).toBe(10)
    expect((await t.readyz()).status).toBe(200)
    const read = await t.app.request('/v1/events/before-0', { headers: { authorization: `Bearer ${t.key}` } })
    expect(read.status).toBe(503)
    proxy.restore()
    await t.startWorker()
    await waitFor(async () => (await t.stored()).length === 20, 'both batches stored')
  })
})

describe.runIf(available === true && natsServerAvailable() === true)('queue mode with NATS away', () => {
  it('answers 503 while NATS is unreachable, says so in readyz, and queues again after NATS is back', async () => {
    const server = await NatsServer.start()
    cleanups.push(() => server.close())
    const t = await setup({ servers: [server.url] })
    expect((await t.post(events('n1', 5))).status).toBe(200)
    await server.stop()
    await waitFor(async () => (await t.readyz()).status === 503, 'readyz to notice')
    expect((await t.readyz()).body.error!.message).toContain('unreachable')
    const refused = await t.post(events('n2', 5))
    expect(refused.status).toBe(503)
    expect(refused.retryAfter).toBe('1')
    await server.restart()
    const back = await waitFor(async () => {
      const r = await t.post(events('n2', 5))
      return r.status === 200 ? r : undefined
    }, 'ingest after NATS is back')
    expect(back.body.queued).toBe(5)
    // The stream survived the restart: what was acknowledged before is still there.
    const { worker } = await t.startWorker()
    await waitFor(async () => (await t.stored()).length === 10, 'both batches applied')
    expect(worker.counts.accepted).toBe(10)
  }, 60_000)
})

if (available !== true) it.skip(available, () => {})
