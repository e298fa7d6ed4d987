import type { WireEvent } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { Meterkit } from './client.js'
import type { MeterkitCoreOptions } from './options.js'
import { MeterkitDeliveryError, MeterkitEventError, type DropReason, type MeterkitError } from './errors.js'
import { FakeCollector, FakeTime, MemoryBuffer, settle } from './testing.js'

function setup(options: Partial<MeterkitCoreOptions> = {}) {
  const time = new FakeTime()
  const collector = new FakeCollector()
  const errors: MeterkitError[] = []
  const drops: { events: WireEvent[]; reason: DropReason }[] = []
  let n = 0
  const mk = new Meterkit({
    transport: collector,
    clock: time,
    timers: time,
    random: () => 0.5,
    generateId: () => `id-${++n}`,
    onError: (e) => errors.push(e),
    onDrop: (events, reason) => drops.push({ events, reason }),
    ...options,
  })
  const track = (count: number) => {
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push(mk.track({ event: 'render.completed', customerId: 'cus_42', properties: { gpuSeconds: i } }))
    return ids
  }
  /** Resolves a promise while advancing fake time. */
  const run = async <T>(promise: Promise<T>, maxMs = 3_600_000): Promise<T> => {
    let done = false
    const result = promise.finally(() => (done = true))
    await time.until(() => done, maxMs)
    return result
  }
  return { mk, time, collector, errors, drops, track, run }
}

function newGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

const idsOf = (events: WireEvent[]) => events.map((e) => e.id)

describe('batching', () => {
  it('sends full batches at once and the rest after flushIntervalMs', async () => {
    const { mk, time, collector, track } = setup()
    track(250)
    await settle()
    expect(collector.requests.map((r) => r.length)).toEqual([100, 100])
    await time.advance(4999)
    expect(collector.requests).toHaveLength(2)
    await time.advance(1)
    expect(collector.requests.map((r) => r.length)).toEqual([100, 100, 50])
    expect(mk.stats()).toEqual({ tracked: 250, acknowledged: 250, duplicates: 0, rejected: 0, retried: 0, buffered: 0, dropped: 0, inFlight: 0 })
  })

  it('cuts batches at maxBatchBytes', async () => {
    const { collector, track, mk, run } = setup({ maxBatchBytes: 2000 })
    track(50)
    await run(mk.flush())
    for (const r of collector.requests) expect(JSON.stringify({ events: r }).length).toBeLessThanOrEqual(2000)
    expect(collector.stored.size).toBe(50)
  })

  it('flush() sends partial batches and waits only for events tracked before it', async () => {
    const { mk, collector, track, time } = setup()
    const gate = newGate()
    collector.script.push({ hang: gate.promise })
    track(3)
    let flushed = false
    void mk.flush().then(() => (flushed = true))
    track(2)
    await settle()
    expect(collector.requests.map((r) => r.length)).toEqual([3])
    expect(flushed).toBe(false)
    gate.resolve()
    await settle()
    expect(flushed).toBe(true)
    expect(mk.stats().acknowledged).toBe(3)
    await time.advance(5000)
    expect(mk.stats().acknowledged).toBe(5)
  })
})

describe('retries', () => {
  it('retries 500/503 with full-jitter backoff, same ids, exact counts', async () => {
    const { mk, time, collector, track, errors } = setup({ flushAt: 10 })
    collector.script.push({ status: 503 }, { status: 500 })
    const ids = track(10)
    await settle()
    expect(collector.requests).toHaveLength(1)
    await time.advance(249) // attempt 1: 0.5 · 500 ms
    expect(collector.requests).toHaveLength(1)
    await time.advance(1)
    expect(collector.requests).toHaveLength(2)
    await time.advance(500) // attempt 2: 0.5 · 1000 ms
    expect(collector.requests).toHaveLength(3)
    for (const r of collector.requests) expect(idsOf(r)).toEqual(ids)
    expect(mk.stats()).toMatchObject({ tracked: 10, acknowledged: 10, duplicates: 0, retried: 20, dropped: 0, inFlight: 0 })
    expect(errors.filter((e) => e instanceof MeterkitDeliveryError)).toHaveLength(2)
  })

  it('honours Retry-After without spending an attempt', async () => {
    const { mk, time, collector, track, run } = setup({ flushAt: 5, maxRetries: 1 })
    collector.script.push({ status: 429, retryAfter: '3' }, { status: 429, retryAfter: '3' }, { status: 503 }, { status: 429, retryAfter: '1' })
    track(5)
    await settle()
    await time.advance(2999)
    expect(collector.requests).toHaveLength(1)
    await time.advance(1)
    expect(collector.requests).toHaveLength(2)
    await run(mk.flush())
    expect(collector.requests).toHaveLength(5)
    expect(mk.stats()).toMatchObject({ acknowledged: 5, dropped: 0, retried: 20 })
  })

  it('retries network errors and timeouts; gives up after maxRetries through onDrop', async () => {
    const { mk, collector, track, drops, run } = setup({ flushAt: 4, maxRetries: 3 })
    collector.down = 'network'
    const ids = track(4)
    await run(mk.flush())
    expect(collector.requests).toHaveLength(4) // first attempt + 3 retries
    expect(drops).toEqual([{ events: expect.any(Array), reason: 'retries_exhausted' }])
    expect(idsOf(drops[0]!.events)).toEqual(ids)
    expect(mk.stats()).toMatchObject({ tracked: 4, acknowledged: 0, dropped: 4, retried: 12 })

    collector.down = undefined
    collector.script.push({ error: 'timeout' })
    track(4)
    await run(mk.flush())
    expect(mk.stats()).toMatchObject({ tracked: 8, acknowledged: 4, dropped: 4, retried: 16 })
  })

  it('does not retry other 4xx', async () => {
    const { mk, collector, track, drops, errors, run } = setup({ flushAt: 2 })
    collector.script.push({ status: 401, body: '{"error":{"code":"unauthorized","message":"bad key"}}' })
    track(2)
    await run(mk.flush())
    expect(collector.requests).toHaveLength(1)
    expect(drops[0]!.reason).toBe('request_rejected')
    expect(errors[0]).toMatchObject({ code: 'unauthorized', httpStatus: 401 })
    expect(mk.stats()).toMatchObject({ dropped: 2, retried: 0 })
  })

  it('counts a lost response as delivered when the retry answers duplicate', async () => {
    const { mk, collector, track, run } = setup({ flushAt: 20 })
    collector.script.push({ lost: true })
    const ids = track(20)
    await run(mk.flush())
    expect(collector.requests).toHaveLength(2)
    expect(idsOf(collector.requests[1]!)).toEqual(ids)
    expect(collector.stored.size).toBe(20)
    expect(mk.stats()).toMatchObject({ acknowledged: 20, duplicates: 20, rejected: 0, retried: 20, dropped: 0 })
  })

  it('counts `queued` (a collector in queue mode) as delivered, also when a retry is queued again', async () => {
    const { mk, collector, track, errors, run } = setup({ flushAt: 20 })
    collector.queueMode = true
    collector.script.push({ lost: true })
    track(20)
    await run(mk.flush())
    expect(collector.requests).toHaveLength(2)
    expect(collector.stored.size).toBe(20)
    // Only the lost answer is reported; no event is refused.
    expect(errors.map((e) => e.code)).toEqual(['network'])
    expect(mk.stats()).toMatchObject({ tracked: 20, acknowledged: 20, duplicates: 0, rejected: 0, retried: 20, dropped: 0, inFlight: 0 })
  })

  it('reports per-event rejections through onError and never retries them', async () => {
    const { mk, collector, track, errors, run } = setup({ flushAt: 5 })
    const ids = track(5)
    collector.rejectIds.add(ids[1]!).add(ids[3]!)
    await run(mk.flush())
    expect(collector.requests).toHaveLength(1)
    const rejections = errors.filter((e): e is MeterkitEventError => e instanceof MeterkitEventError)
    expect(rejections.map((e) => [e.eventId, e.code, e.status])).toEqual([
      [ids[1], 'invalid_properties', 'rejected'],
      [ids[3], 'invalid_properties', 'rejected'],
    ])
    expect(mk.stats()).toMatchObject({ acknowledged: 3, rejected: 2, retried: 0 })
  })

  it('reports conflicts (same id, other content) as rejected', async () => {
    const { mk, track, run, errors } = setup({ flushAt: 1 })
    mk.track({ event: 'e', customerId: 'c', id: 'job-1:render', properties: { v: 1 } })
    mk.track({ event: 'e', customerId: 'c', id: 'job-1:render', properties: { v: 2 } })
    track(0)
    await run(mk.flush())
    expect(mk.stats()).toMatchObject({ acknowledged: 1, rejected: 1 })
    expect(errors[0]).toMatchObject({ eventId: 'job-1:render', status: 'conflict' })
  })

  it('splits a batch answered 413 into halves until it fits', async () => {
    const { mk, collector, track, run } = setup({ flushAt: 100 })
    collector.maxEvents = 30
    track(100)
    await run(mk.flush())
    expect(collector.requests.map((r) => r.length)).toEqual([100, 50, 25, 25, 50, 25, 25])
    expect(collector.stored.size).toBe(100)
    expect(mk.stats()).toMatchObject({ acknowledged: 100, duplicates: 0, dropped: 0 })
  })

  it('drops a single event answered 413', async () => {
    const { mk, collector, track, drops, run } = setup({ flushAt: 1 })
    collector.maxEvents = 0
    track(1)
    await run(mk.flush())
    expect(drops.map((d) => d.reason)).toEqual(['event_too_large'])
  })
})

describe('memory cap and buffer', () => {
  it('drops visibly past maxQueueEvents without a buffer', async () => {
    const { mk, track, drops } = setup({ maxQueueEvents: 5, flushAt: 100 })
    track(7)
    expect(drops.map((d) => [d.reason, d.events.length])).toEqual([['queue_full', 1], ['queue_full', 1]])
    expect(mk.stats()).toMatchObject({ tracked: 7, dropped: 2 })
  })

  it('spills past maxQueueEvents into the buffer', async () => {
    const buffer = new MemoryBuffer()
    const { mk, track, collector, run } = setup({ maxQueueEvents: 5, flushAt: 100, buffer })
    track(8)
    await run(mk.flush())
    expect(buffer.appended).toBe(3)
    expect(collector.stored.size).toBe(8)
    expect(mk.stats()).toMatchObject({ tracked: 8, acknowledged: 8, buffered: 0, dropped: 0 })
  })

  it('moves a batch to the buffer after its first failed attempt and replays it', async () => {
    const buffer = new MemoryBuffer()
    const { mk, time, collector, track, run } = setup({ flushAt: 10, buffer })
    collector.down = 503
    const ids = track(10)
    await run(mk.flush(), 1) // no backoff wait: the buffer holds them
    expect(mk.stats()).toMatchObject({ buffered: 10, acknowledged: 0 })
    // While the collector is down, new batches go straight to the buffer.
    await time.advance(10)
    const before = collector.requests.length
    track(10)
    await run(mk.flush(), 1)
    expect(collector.requests.length - before).toBeLessThanOrEqual(1)
    expect(mk.stats().buffered).toBe(20)
    collector.down = undefined
    await time.until(() => mk.stats().buffered === 0)
    expect(collector.stored.size).toBe(20)
    for (const r of collector.requests) for (const e of r) expect(ids.includes(e.id) || e.id.startsWith('id-')).toBe(true)
    expect(mk.stats()).toMatchObject({ tracked: 20, acknowledged: 20, dropped: 0, buffered: 0 })
  })

  it('reports events the buffer refuses at its cap', async () => {
    const buffer = new MemoryBuffer()
    buffer.capEvents = 3
    const { mk, collector, track, drops, run } = setup({ flushAt: 5, buffer })
    collector.down = 'network'
    track(5)
    await run(mk.flush(), 1)
    expect(drops.map((d) => [d.reason, d.events.length])).toEqual([['buffer_full', 2]])
    expect(mk.stats()).toMatchObject({ buffered: 3, dropped: 2 })
  })

  it('keeps retrying in memory when the buffer fails', async () => {
    const buffer = new MemoryBuffer()
    buffer.failNextAppend = true
    const { mk, collector, track, errors, run } = setup({ flushAt: 5, buffer })
    collector.script.push({ status: 503 })
    track(5)
    await run(mk.flush())
    expect(errors.some((e) => e.code === 'buffer_write_failed')).toBe(true)
    expect(collector.stored.size).toBe(5)
  })
})

describe('shutdown', () => {
  it('flushes, stops timers and resolves', async () => {
    const { mk, time, collector, track, run } = setup()
    track(3)
    await run(mk.shutdown())
    expect(collector.stored.size).toBe(3)
    expect(time.timerCount).toBe(0)
  })

  it('gives up after timeoutMs: leftovers go to onDrop without a buffer, and later tracks too', async () => {
    const { mk, time, collector, track, drops, run } = setup({ flushAt: 5 })
    collector.down = 503
    track(7)
    await run(mk.shutdown({ timeoutMs: 2000 }), 2000)
    expect(drops.reduce((n, d) => n + d.events.length, 0)).toBe(7)
    expect(drops.every((d) => d.reason === 'shutdown')).toBe(true)
    mk.track({ event: 'e', customerId: 'c' })
    expect(drops.at(-1)!.reason).toBe('closed')
    expect(mk.stats()).toMatchObject({ tracked: 8, dropped: 8, inFlight: 0 })
    expect(time.timerCount).toBe(0)
  })

  it('moves leftovers to the buffer', async () => {
    const buffer = new MemoryBuffer()
    const gate = newGate()
    const { mk, collector, track, run } = setup({ flushAt: 5, buffer })
    collector.script.push({ hang: gate.promise })
    track(5)
    await settle()
    const done = mk.shutdown({ timeoutMs: 1000 })
    await run(done)
    expect(buffer.appended).toBe(5)
    gate.resolve()
    expect(mk.stats()).toMatchObject({ tracked: 5, buffered: 5, dropped: 0 })
  })
})

describe('track()', () => {
  it('never throws for runtime faults: a transport that throws is a network error', async () => {
    const { mk, track, run } = setup({
      flushAt: 1,
      maxRetries: 0,
      transport: { send: () => Promise.reject(new Error('boom')) },
    })
    expect(() => track(3)).not.toThrow()
    await run(mk.flush())
    expect(mk.stats()).toMatchObject({ tracked: 3, dropped: 3 })
  })

  it('keeps stats consistent: tracked = acknowledged + rejected + dropped + buffered + pending', async () => {
    const buffer = new MemoryBuffer()
    const { mk, time, collector, track } = setup({ flushAt: 7, buffer, maxQueueEvents: 30 })
    collector.script.push({ status: 503 }, { lost: true }, { status: 429, retryAfter: '1' }, { error: 'timeout' })
    const ids = track(40)
    collector.rejectIds.add(ids[5]!)
    await time.until(() => {
      const s = mk.stats()
      return s.acknowledged + s.rejected + s.dropped === s.tracked && s.buffered === 0
    })
    expect(mk.stats()).toMatchObject({ tracked: 40, acknowledged: 39, rejected: 1, dropped: 0 })
    expect(collector.stored.size).toBe(39)
  })
})
