// Fuzzing POST /v1/events through app.request() (no socket): random JSON, random event-like
// batches, random bytes, random headers (content-type, content-encoding, content-length lies)
// and encodings (gzip of random data, truncated gzip, gzip twice). For every case: never a 5xx;
// every 4xx carries the error body with a code that matches its status; every 200 has one result
// per input event, in order, and counts that add up. Heap growth over the run stays bounded.
// (POST /v1/events/import does not exist yet; it gets the same treatment when it lands.)
import { connect } from 'node:net'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { gunzipSync, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { REQUEST_ERROR_STATUS, errorBodySchema } from '@meterkit/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { T0, type TestApp, testApp } from '../../collector/src/testing.js'
import { CHAOS_LONG, chaosSeeds, makeEvents, readStored, removeDir, withSeed } from '../support/chaos.js'
import { Processes, stopCollector } from '../support/collector-control.js'
import { ADMIN_KEY, type CollectorProcess, postEvents, startCollector, tempDir } from '../support/collector-process.js'

const [SEED] = chaosSeeds('fuzz', 1, 1) as [number]
const RUNS = CHAOS_LONG ? 40_000 : 2_000
const HEAP_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

let t: TestApp
let cases = 0
const statuses = new Map<string, number>()
beforeAll(async () => {
  t = await testApp()
})
afterAll(async () => {
  await t.close()
  console.log(`[chaos fuzz] seed ${SEED}: ${cases} cases against POST /v1/events; answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`)
})

interface Case {
  body: Uint8Array
  headers: Record<string, string>
}

// ---- arbitraries --------------------------------------------------------------------------

const idLike = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,24}$/),
  fc.string({ maxLength: 140 }),
  fc.integer(),
  fc.constant(null),
)
const timestampLike = fc.oneof(
  fc.integer({ min: T0 - 40 * 86_400_000, max: T0 + 86_400_000 }).map((ms) => new Date(ms).toISOString()),
  fc.integer({ min: T0 - 86_400_000, max: T0 }).map((ms) => new Date(ms).toISOString().replace('Z', '+00:00')),
  fc.string({ maxLength: 40 }),
  fc.integer(),
)
const propertiesLike = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 6 }), { maxKeys: 8 }),
  fc.jsonValue({ maxDepth: 3 }),
)
const eventLike = fc.oneof(
  fc.record(
    { id: idLike, event: idLike, customerId: fc.oneof(fc.string({ maxLength: 40 }), fc.integer()), timestamp: timestampLike, properties: propertiesLike, reservationId: idLike },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
)

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON') },
  { weight: 1, arbitrary: fc.constantFrom('', 'text/plain', 'application/x-ndjson', 'multipart/form-data; boundary=x') },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,30}$/) },
)
const contentLengthLie = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('0', '1', '-1', 'abc', '99999999999', '1048577', '1e3', ' 12') },
)

/** A body whose decoded form is `text`, sent plain or gzip'd, the gzip possibly broken. */
const encoded = (text: fc.Arbitrary<Uint8Array>) => fc.tuple(text, fc.nat(), fc.constantFrom('plain', 'gzip', 'gzip-truncated', 'gzip-twice', 'gzip-trailing-garbage', 'gzip-unlabelled', 'label-only'))
  .map(([raw, cut, how]): Case => {
    switch (how) {
      case 'plain':
        return { body: raw, headers: {} }
      case 'gzip':
        return { body: gzipSync(raw), headers: { 'content-encoding': 'gzip' } }
      case 'gzip-truncated': {
        const z = gzipSync(raw)
        return { body: z.subarray(0, cut % z.length), headers: { 'content-encoding': 'gzip' } }
      }
      case 'gzip-twice':
        return { body: gzipSync(gzipSync(raw)), headers: { 'content-encoding': 'gzip' } }
      case 'gzip-trailing-garbage':
        return { body: Buffer.concat([gzipSync(raw), Buffer.from('garbage')]), headers: { 'content-encoding': 'gzip' } }
      case 'gzip-unlabelled':
        return { body: gzipSync(raw), headers: {} }
      default:
        return { body: raw, headers: { 'content-encoding': 'gzip' } }
    }
  })

const utf8 = (s: string) => new TextEncoder().encode(s)

const batchText = fc.array(eventLike, { maxLength: 40 }).map((events) => utf8(JSON.stringify({ events })))
const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => utf8(JSON.stringify(v)))
const randomBytes = fc.uint8Array({ maxLength: 3000 })
const nearJson = fc.tuple(fc.array(eventLike, { minLength: 1, maxLength: 10 }), fc.nat(), fc.string({ maxLength: 5 }))
  .map(([events, cut, junk]) => {
    const s = JSON.stringify({ events })
    return utf8(s.slice(0, cut % s.length) + junk + s.slice(cut % s.length))
  })

const anyCase = fc.tuple(
  fc.oneof(encoded(batchText), encoded(jsonText), encoded(randomBytes), encoded(nearJson)),
  contentType,
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('identity', 'GZIP', ' gzip ', 'deflate', 'br', 'gzip, gzip', 'x-unknown') },
  ),
  contentLengthLie,
).map(([c, type, encodingOverride, length]): Case => ({
  body: c.body,
  headers: {
    ...c.headers,
    'content-type': type,
    ...(encodingOverride === null ? {} : { 'content-encoding': encodingOverride }),
    ...(length === undefined ? {} : { 'content-length': length }),
  },
}))

// ---- the oracle ---------------------------------------------------------------------------

/** How many events the body holds, when it is a decodable `{ events: [...] }`; else undefined. */
function eventsIn(c: Case): number | undefined {
  try {
    const enc = (c.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
    const bytes = enc === 'gzip' ? gunzipSync(c.body) : c.body
    const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { events?: unknown }
    return Array.isArray(parsed?.events) ? parsed.events.length : undefined
  } catch {
    return undefined
  }
}

async function check(c: Case): Promise<void> {
  cases++
  const res = await t.app.request('/v1/events', {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, ...c.headers },
    body: c.body,
  })
  const text = await res.text()
  const label = res.status >= 400 ? `${res.status} ${(JSON.parse(text) as { error?: { code?: string } }).error?.code}` : String(res.status)
  statuses.set(label, (statuses.get(label) ?? 0) + 1)
  expect(res.status, text).toBeLessThan(500)
  if (res.status >= 400) {
    const parsed = errorBodySchema.safeParse(JSON.parse(text))
    expect(parsed.success, text).toBe(true)
    const code = parsed.data!.error.code as keyof typeof REQUEST_ERROR_STATUS
    expect(REQUEST_ERROR_STATUS[code], text).toBe(res.status)
    expect(parsed.data!.error.message.length).toBeGreaterThan(0)
    return
  }
  expect(res.status, text).toBe(200)
  const body = JSON.parse(text) as { accepted: number; duplicates: number; conflicts: number; rejected: number; results: { id: unknown; status: string; code?: string; message?: string }[] }
  const n = eventsIn(c)
  expect(n, 'a 200 for a body that is not an events batch').toBeDefined()
  expect(body.results).toHaveLength(n!)
  expect(body.accepted + body.duplicates + body.conflicts + body.rejected).toBe(n)
  for (const r of body.results) {
    expect(['accepted', 'duplicate', 'conflict', 'rejected']).toContain(r.status)
    if (r.status === 'rejected' || r.status === 'conflict') expect(typeof r.message).toBe('string')
  }
}

describe('fuzzing POST /v1/events', () => {
  it(`random bodies, headers and encodings: no 5xx, error body on 4xx, one result per event on 200 (${RUNS} runs)`, async () => {
    await withSeed('fuzz', SEED, async () => {
      gc()
      const before = process.memoryUsage().heapUsed
      await fc.assert(fc.asyncProperty(anyCase, check), { seed: SEED, numRuns: RUNS })
      // Well-formed batches of valid-looking events, to reach the store often.
      const validish = fc.array(
        fc.record({
          id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,16}$/),
          event: fc.constantFrom('render.completed', 'clip.generated'),
          customerId: fc.stringMatching(/^[a-z0-9_]{1,8}$/),
          timestamp: fc.integer({ min: T0 - 86_400_000, max: T0 }).map((ms) => new Date(ms).toISOString()),
          properties: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean())),
        }),
        { minLength: 1, maxLength: 50 },
      ).map((events): Case => ({ body: utf8(JSON.stringify({ events })), headers: { 'content-type': 'application/json' } }))
      await fc.assert(fc.asyncProperty(validish, check), { seed: SEED, numRuns: Math.ceil(RUNS / 2) })
      gc()
      const growth = process.memoryUsage().heapUsed - before
      console.log(`[chaos fuzz] heap growth over the run: ${(growth / 1024 / 1024).toFixed(1)} MiB`)
      expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES)
    })
  }, CHAOS_LONG ? 1_200_000 : 60_000)
})

// ---- the same lies on a real socket -------------------------------------------------------
// app.request() never parses HTTP; these cases go through the real server's parser: a
// Content-Length shorter or longer than the body, a body cut off by a close or a reset,
// broken chunked encoding, conflicting lengths. None may store a partial batch or crash the
// process; only whole, honest requests are stored.

const LIES = ['exact', 'shorter', 'longer-then-close', 'longer-then-reset', 'chunked', 'chunked-truncated',
  'chunked-bad-size', 'two-content-lengths', 'length-and-chunked'] as const
type Lie = (typeof LIES)[number]
const RAW_RUNS = CHAOS_LONG ? 600 : 80

/** How the client leaves a request: wait for the reply (a whole request), or half-close or reset
 * the connection (a request the server is still waiting to see the end of). */
type Finish = 'wait' | 'end' | 'reset'

function rawRequest(host: string, body: Buffer, lie: Lie, k: number): { bytes: Buffer; finish: Finish } {
  const head = (extra: string[]) => Buffer.from([
    'POST /v1/events HTTP/1.1', `host: ${host}`, `authorization: Bearer ${ADMIN_KEY}`, 'content-type: application/json',
    'connection: close', ...extra, '', ''].join('\r\n'), 'latin1')
  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')])
  switch (lie) {
    case 'exact':
      return { bytes: Buffer.concat([head([`content-length: ${body.length}`]), body]), finish: 'wait' }
    case 'shorter':
      return { bytes: Buffer.concat([head([`content-length: ${body.length - 1 - (k % (body.length - 1))}`]), body]), finish: 'wait' }
    case 'longer-then-close':
    case 'longer-then-reset':
      return { bytes: Buffer.concat([head([`content-length: ${body.length + 1 + k}`]), body]), finish: lie === 'longer-then-reset' ? 'reset' : 'end' }
    case 'chunked':
      return { bytes: Buffer.concat([head(['transfer-encoding: chunked']), chunk(body.subarray(0, k % body.length)), chunk(body.subarray(k % body.length)), Buffer.from('0\r\n\r\n')]), finish: 'wait' }
    case 'chunked-truncated':
      return { bytes: Buffer.concat([head(['transfer-encoding: chunked']), chunk(body).subarray(0, 1 + (k % (body.length + 4)))]), finish: 'end' }
    case 'chunked-bad-size':
      return { bytes: Buffer.concat([head(['transfer-encoding: chunked']), Buffer.from(`${(body.length + 10).toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]), finish: 'end' }
    case 'two-content-lengths':
      return { bytes: Buffer.concat([head([`content-length: ${body.length}`, `content-length: ${body.length - 1}`]), body]), finish: 'wait' }
    case 'length-and-chunked':
      return { bytes: Buffer.concat([head([`content-length: ${body.length}`, 'transfer-encoding: chunked']), body]), finish: 'wait' }
  }
}

/** Sends raw bytes, then waits, half-closes or resets; answers the reply's status (undefined: none). */
function sendRaw(url: string, bytes: Buffer, finish: Finish): Promise<number | undefined> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname)
    let reply = ''
    const done = () => {
      clearTimeout(timer)
      const m = /^HTTP\/1\.1 (\d{3})/.exec(reply)
      resolve(m ? Number(m[1]) : undefined)
    }
    const timer = setTimeout(() => {
      s.destroy()
    }, 5000)
    s.on('data', (c: Buffer) => (reply += c.toString('latin1')))
    s.on('error', () => undefined)
    s.on('close', done)
    s.write(bytes, () => {
      if (finish === 'reset') s.resetAndDestroy()
      else if (finish === 'end') s.end()
    })
  })
}

describe('length and encoding lies on a real socket', () => {
  let dir: string
  let collector: CollectorProcess
  const procs = new Processes()
  beforeAll(async () => {
    dir = tempDir('meterkit-chaos-rawfuzz-')
    collector = procs.add(await startCollector(join(dir, 'meterkit.db')))
  })
  afterAll(async () => {
    await procs.killAll()
    removeDir(dir)
  })

  it(`${RAW_RUNS} raw requests: no 5xx, no partial batch stored, the process keeps serving`, async () => {
    await withSeed('fuzz', SEED, async () => {
      let n = 0
      const honest = new Set<string>()
      const tally = new Map<string, number>()
      const host = new URL(collector.url).host
      await fc.assert(fc.asyncProperty(fc.constantFrom(...LIES), fc.integer({ min: 1, max: 5 }), fc.nat(), async (lie, count, k) => {
        const events = makeEvents(`raw-${n++}`, count)
        const body = Buffer.from(JSON.stringify({ events }))
        const { bytes, finish } = rawRequest(host, body, lie, k)
        const status = await sendRaw(collector.url, bytes, finish)
        cases++
        tally.set(`${lie} ${status ?? 'no reply'}`, (tally.get(`${lie} ${status ?? 'no reply'}`) ?? 0) + 1)
        if (status !== undefined) expect(status, lie).toBeLessThan(500)
        if (lie === 'exact' || lie === 'chunked') {
          expect(status, lie).toBe(200)
          for (const e of events) honest.add(e.id)
        }
      }), { seed: SEED, numRuns: RAW_RUNS })
      console.log(`[chaos fuzz] raw socket: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`)
      const res = await postEvents(collector.url, makeEvents('raw-after', 3))
      expect(res.status).toBe(200)
      for (const id of ['raw-after-0000000', 'raw-after-0000001', 'raw-after-0000002']) honest.add(id)
      expect(await stopCollector(collector)).toBe(0)
      const stored = readStored(join(dir, 'meterkit.db')).map((r) => r.id).sort()
      expect(stored).toEqual([...honest].sort())
    })
  }, 120_000)
})
