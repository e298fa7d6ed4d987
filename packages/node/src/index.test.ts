import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Meterkit, MeterkitBufferLockedError, type MeterkitOptions } from './index.js'
import { HttpCollector } from './testing/http-collector.js'

const KEY = 'mk_sec_test_key_0123456789'
let collector: HttpCollector
const dirs: string[] = []
const clients: Meterkit[] = []

beforeEach(async () => {
  collector = new HttpCollector(KEY)
  await collector.start()
})
afterEach(async () => {
  for (const c of clients.splice(0)) await c.shutdown({ timeoutMs: 100 })
  await collector.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function client(options: Partial<MeterkitOptions> = {}): Meterkit {
  // random 0: backoff waits are 0 ms, so retries run at once without fake timers.
  const mk = new Meterkit({ endpoint: collector.url, apiKey: KEY, random: () => 0, ...options })
  clients.push(mk)
  return mk
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mk-node-'))
  dirs.push(d)
  return d
}
const track = (mk: Meterkit, n: number, prefix = 'job') =>
  Array.from({ length: n }, (_, i) => mk.track({ id: `${prefix}-${i}:render`, event: 'render.completed', customerId: 'cus_42', properties: { gpuSeconds: i } }))

describe('Meterkit (node) against a real HTTP server', () => {
  it('delivers exactly once through resets and lost responses', async () => {
    collector.faults.push('reset', 'lost', { status: 503 }, 'lost', { status: 429, retryAfter: '0' })
    const mk = client({ flushAt: 50, maxConcurrentRequests: 1 })
    const ids = track(mk, 200)
    await mk.flush()
    expect([...collector.stored.keys()].sort()).toEqual([...ids].sort())
    expect(collector.conflicts).toBe(0)
    expect(mk.stats()).toMatchObject({ tracked: 200, acknowledged: 200, duplicates: 50, rejected: 0, dropped: 0, inFlight: 0 })
    // First batch: reset (retried at once by the transport) → lost → 503 → lost (retried at once)
    // → 429 → accepted as duplicates: it was applied twice on the server, stored once.
    expect(collector.duplicates).toBe(100) // the second lost answer was a duplicate too
    expect(mk.stats().retried).toBe(150)
  })

  it('gzips large batches', async () => {
    const mk = client({ flushAt: 1000 })
    for (let i = 0; i < 500; i++) mk.track({ event: 'e', customerId: 'c', properties: { s: 'x'.repeat(200) } })
    await mk.flush()
    expect(collector.gzipped).toBeGreaterThan(0)
    expect(collector.stored.size).toBe(500)
  })

  it('with bufferDir, flush() resolves within about timeoutMs while the collector hangs', async () => {
    collector.down = 'hang'
    const mk = client({ bufferDir: tempDir(), timeoutMs: 200 })
    track(mk, 30)
    const started = Date.now()
    await mk.flush()
    expect(Date.now() - started).toBeLessThan(1500)
    expect(mk.stats()).toMatchObject({ tracked: 30, buffered: 30, acknowledged: 0 })
  })

  it('replays the buffer after a restart; the idempotency key never changes', async () => {
    const dir = tempDir()
    collector.down = { status: 503 }
    const first = client({ bufferDir: dir })
    const ids = track(first, 40)
    await first.flush()
    expect(first.stats().buffered).toBe(40)
    await first.shutdown({ timeoutMs: 500 })
    expect(readdirSync(dir).some((n) => n.startsWith('segment-'))).toBe(true)

    collector.down = undefined
    const second = client({ bufferDir: dir })
    await expect.poll(() => second.stats().acknowledged, { timeout: 5000 }).toBe(40)
    expect([...collector.stored.keys()].sort()).toEqual([...ids].sort())
    expect(second.stats()).toMatchObject({ tracked: 0, acknowledged: 40, buffered: 0 })
    await second.shutdown()
    expect(readdirSync(dir).filter((n) => n.startsWith('segment-'))).toEqual([])
  })

  it('throws a clear error when a second client opens the same bufferDir', async () => {
    const dir = tempDir()
    client({ bufferDir: dir })
    expect(() => client({ bufferDir: dir })).toThrow(MeterkitBufferLockedError)
  })

  it('persists what is left at shutdown', async () => {
    const dir = tempDir()
    collector.down = 'hang'
    const mk = client({ bufferDir: dir, timeoutMs: 60_000, flushAt: 10 })
    track(mk, 25)
    await mk.shutdown({ timeoutMs: 300 })
    expect(mk.stats()).toMatchObject({ tracked: 25, buffered: 25, dropped: 0 })
  })
})
