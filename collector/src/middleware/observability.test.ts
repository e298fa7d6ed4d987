// Request ids, access logs and the store figures of /metrics, through the app as a function.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { ManualClock, SqliteStore, hashKey, newSecretKey } from '@meterkit/engine'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../app.js'
import { createLogger } from '../logger.js'
import { CollectorMetrics } from '../metrics.js'
import { sqliteGauges } from '../sqlite-gauges.js'
import { T0 } from '../testing.js'

/** A pino destination that keeps each line, parsed. */
function memoryLog() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { lines, stream }
}

let dir: string
let store: SqliteStore
let key: string
let tenantId: number
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meterkit-obs-'))
  store = new SqliteStore(join(dir, 'meterkit.db'))
  tenantId = (await store.defaultTenant('default', T0)).id
  key = newSecretKey()
  await store.putApiKey({ id: 'key_obs', tenantId, hash: hashKey(key), name: 'test' }, T0)
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

function appWith(level: 'info' | 'debug' = 'info') {
  const log = memoryLog()
  const metrics = new CollectorMetrics()
  metrics.storeGauges = sqliteGauges(store)
  const app = createApp({ store, clock: new ManualClock(T0), keyCacheTtlMs: 0, metrics, logger: createLogger({ level, destination: log.stream }) })
  return { app, log, metrics }
}

const auth = () => ({ authorization: `Bearer ${key}` })

describe('x-request-id', () => {
  it('keeps a sane incoming id on the response and in the access log', async () => {
    const { app, log } = appWith()
    const res = await app.request('/v1/keys', { headers: { ...auth(), 'x-request-id': 'lb-7f3a_9=' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('lb-7f3a_9=')
    expect(log.lines).toContainEqual(expect.objectContaining({ msg: 'request', requestId: 'lb-7f3a_9=', method: 'GET', path: '/v1/keys', status: 200, tenantId }))
  })

  it('replaces a missing, overlong or odd id with a fresh one, on errors too', async () => {
    const { app } = appWith()
    const seen = new Set<string>()
    for (const incoming of [undefined, 'x'.repeat(129), 'two words', 'a\u00e9b', '<script>']) {
      const headers: Record<string, string> = incoming === undefined ? {} : { 'x-request-id': incoming }
      const res = await app.request('/v1/nowhere', { headers })
      expect(res.status).toBe(401)
      const id = res.headers.get('x-request-id')!
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      seen.add(id)
    }
    expect(seen.size).toBe(5)
    const notFound = await app.request('/v1/nowhere', { headers: auth() })
    expect(notFound.status).toBe(404)
    expect(notFound.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('access log', () => {
  it('logs status and duration, never the query string (tokens travel in it)', async () => {
    const { app, log } = appWith()
    await app.request('/v1/customers/cus_1/stream?token=mk_ct_secret_value', {})
    const line = log.lines.find((l) => l.msg === 'request')!
    expect(line).toMatchObject({ level: 'info', method: 'GET', path: '/v1/customers/cus_1/stream', status: 401, service: 'meterkit' })
    expect(typeof line.durationMs).toBe('number')
    expect(line.durationMs).toBeGreaterThanOrEqual(0)
    expect(JSON.stringify(log.lines)).not.toContain('mk_ct_secret_value')
    expect(typeof line.time).toBe('string')
  })

  it('keeps probes and scrapes at debug', async () => {
    const quiet = appWith('info')
    await quiet.app.request('/healthz')
    await quiet.app.request('/metrics')
    expect(quiet.log.lines).toEqual([])
    const verbose = appWith('debug')
    await verbose.app.request('/healthz')
    expect(verbose.log.lines).toContainEqual(expect.objectContaining({ level: 'debug', path: '/healthz', status: 200 }))
  })
})

describe('/metrics store figures', () => {
  function figure(text: string, series: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    if (line === undefined) throw new Error(`no ${series} in\n${text}`)
    return Number(line.slice(series.length + 1))
  }

  it('reports the webhook backlog, fold lag, database size and billing-run durations', async () => {
    const { app } = appWith()
    const scrape = async () => (await app.request('/metrics')).text()
    const ts = new Date(T0).toISOString()
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, event: 'render.completed', customerId: 'cus_1', timestamp: ts, properties: {} }))
    const res = await app.request('/v1/events', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ events }) })
    expect((await res.json()) as { accepted: number }).toMatchObject({ accepted: 40 })

    // Folds run behind the commits (a collector's maintenance thread runs them): all 40 events
    // wait past both watermarks until a pass runs.
    let text = await scrape()
    expect(figure(text, 'meterkit_fold_lag_events{fold="rollups"}')).toBe(40)
    expect(figure(text, 'meterkit_fold_lag_events{fold="credits"}')).toBe(40)
    await store.foldAll()
    await store.credits.fold()
    const caughtUp = await scrape()
    expect(figure(caughtUp, 'meterkit_fold_lag_events{fold="rollups"}')).toBe(0)
    expect(figure(caughtUp, 'meterkit_fold_lag_events{fold="credits"}')).toBe(0)
    expect(figure(text, 'meterkit_database_bytes{file="main"}')).toBeGreaterThan(0)
    expect(figure(text, 'meterkit_webhook_backlog')).toBe(0)

    await store.webhooks.enqueue(tenantId, [{ url: 'https://example.com/hook', secret: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=', events: ['top_up.created'] }], 'top_up.created',
      { customerId: 'cus_1', grantId: 'g1', credits: '10', amount: null, currency: null } as never, T0)
    text = await scrape()
    expect(figure(text, 'meterkit_webhook_backlog')).toBe(1)

    const run = await app.request('/v1/billing/run', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })
    expect(run.status).toBe(200)
    text = await scrape()
    expect(figure(text, 'meterkit_billing_run_seconds_count{trigger="api"}')).toBe(1)
  })
})
