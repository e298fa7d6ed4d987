// Durability 'track' with fake time and an in-memory buffer: group appends within the window,
// flush() on disk, claimed copies acknowledged once delivered, nothing sent or stored twice.
import fc from 'fast-check'
import type { WireEvent } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { Meterkit } from './client.js'
import type { MeterkitError } from './errors.js'
import type { MeterkitCoreOptions } from './options.js'
import { FakeCollector, FakeTime, MemoryBuffer, settle } from './testing.js'

function setup(options: Partial<MeterkitCoreOptions> = {}) {
  const time = new FakeTime()
  const collector = new FakeCollector()
  const buffer = new MemoryBuffer()
  const errors: MeterkitError[] = []
  const drops: WireEvent[] = []
  let n = 0
  const mk = new Meterkit({
    transport: collector,
    buffer,
    durability: 'track',
    durabilityWindowMs: 5,
    clock: time,
    timers: time,
    random: () => 0.5,
    generateId: () => `id-${++n}`,
    onError: (e) => errors.push(e),
    onDrop: (events) => drops.push(...events),
    ...options,
  })
  const track = (count: number) => Array.from({ length: count }, (_, i) => mk.track({ event: 'render.completed', customerId: 'cus_42', properties: { i } }))
  return { mk, time, collector, buffer, errors, drops, track }
}

function newGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** Every id once, or the list of those seen more than once. */
const repeated = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i)

describe("durability 'track'", () => {
  it('needs a buffer that takes claimed appends', () => {
    const transport = new FakeCollector()
    expect(() => new Meterkit({ transport, durability: 'track' })).toThrow(/durability 'track' needs a buffer/)
    const plain = new MemoryBuffer()
    Object.defineProperty(plain, 'appendClaimed', { value: undefined }) // a buffer without claimed appends
    expect(() => new Meterkit({ transport, buffer: plain, durability: 'track' })).toThrow(TypeError)
    expect(() => new Meterkit({ transport, durability: 'always' as 'track' })).toThrow(/durability must be 'flush' or 'track'/)
  })

  it('writes tracked events in group appends at most one window apart, the first at once', async () => {
    const { time, collector, buffer, track } = setup({ flushAt: 1000 })
    const gate = newGate()
    collector.script.push({ hang: gate.promise })
    track(10)
    await time.advance(0)
    expect(buffer.claimedAppends).toBe(1) // after a quiet spell, at once
    expect(buffer.claimedAppended).toBe(10)
    for (let ms = 0; ms < 5; ms++) {
      track(20)
      await time.advance(1)
    }
    // 100 events in 5 ms: one more append, when the window since the last one ended.
    expect(buffer.claimedAppends).toBe(2)
    expect(buffer.claimedAppended).toBe(110)
    track(1)
    await time.advance(4)
    expect(buffer.claimedAppends).toBe(2)
    await time.advance(1)
    expect(buffer.claimedAppends).toBe(3)
    expect(collector.requests).toHaveLength(0)
    gate.resolve()
  })

  it('flush() resolves once the events are on disk, before the collector answers; stats stay truthful', async () => {
    const { mk, time, collector, buffer, track } = setup({ flushAt: 10 })
    const gate = newGate()
    collector.script.push({ hang: gate.promise })
    track(10)
    let flushed = false
    void mk.flush().then(() => (flushed = true))
    await settle()
    expect(flushed).toBe(true) // group append started by flush(), no window wait
    expect(buffer.claimedAppended).toBe(10)
    expect(mk.stats()).toMatchObject({ tracked: 10, acknowledged: 0, inFlight: 10, buffered: 0 })
    gate.resolve()
    await time.until(() => mk.stats().acknowledged === 10)
    expect(buffer.size).toBe(0) // claimed copies acknowledged
    expect(buffer.replayable()).toEqual([])
    expect(collector.requests.flat().map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => `id-${i + 1}`))
  })

  it('never writes events the collector acknowledged before their group went', async () => {
    const { mk, time, collector, buffer, track } = setup({ flushAt: 50 })
    track(100)
    await settle() // both batches sent and answered within the turn
    await time.advance(10)
    expect(collector.stored.size).toBe(100)
    expect(buffer.claimedAppended).toBe(0)
    expect(mk.stats()).toMatchObject({ tracked: 100, acknowledged: 100, buffered: 0 })
  })

  it('in an outage, hands failed batches to the buffer once each and replays them exactly once', async () => {
    const { mk, time, collector, buffer, track, errors } = setup({ flushAt: 10 })
    collector.down = 503
    const ids = track(30)
    await time.until(() => mk.stats().buffered === 30)
    expect(buffer.replayable().sort()).toEqual(expect.arrayContaining([...ids].sort()))
    expect(repeated(buffer.replayable())).toEqual([]) // a claimed copy acknowledged once its ordinary record is stored
    expect(errors.every((e) => e.code === 'unavailable' || e.code === 'http_503')).toBe(true)
    collector.down = undefined
    await time.until(() => mk.stats().buffered === 0)
    expect([...collector.stored.keys()].sort()).toEqual([...ids].sort())
    expect(mk.stats()).toMatchObject({ tracked: 30, acknowledged: 30, duplicates: 0, dropped: 0, buffered: 0 })
    expect(buffer.size).toBe(0)
  })

  it('keeps the claimed copies of a failed batch until its ordinary records are stored', async () => {
    const { mk, time, collector, buffer, track } = setup({ flushAt: 10 })
    const gate = newGate()
    collector.script.push({ hang: gate.promise })
    const ids = track(10)
    await mk.flush() // on disk, claimed
    const stored = newGate()
    buffer.appendGate = stored.promise
    collector.down = 503
    gate.resolve() // the hanging request now answers 503: the batch goes to the buffer
    await time.advance(1)
    expect(buffer.appended).toBe(0) // its append is under way
    expect(buffer.replayable().sort()).toEqual([...ids].sort())
    stored.resolve()
    await time.advance(1)
    expect(buffer.appended).toBe(10)
    expect(buffer.replayable().sort()).toEqual([...ids].sort())
    expect(repeated(buffer.replayable())).toEqual([])
  })

  it.each([
    [1000, 13, 0], // the window passes during shutdown: the mirror writes the last three too
    [0, 10, 3], // shutdown gives up at once: the last three go to the buffer as ordinary records
  ])('at shutdown (timeoutMs %i), leaves claimed copies on disk for the next process and writes nothing twice', async (timeoutMs, claimed, appended) => {
    const { mk, time, collector, buffer, track } = setup({ flushAt: 5 })
    collector.script.push({ hang: new Promise(() => {}) }, { hang: new Promise(() => {}) })
    const ids = track(10)
    await time.advance(0)
    expect(buffer.claimedAppended).toBe(10)
    const more = track(3)
    let done = false
    void mk.shutdown({ timeoutMs }).then(() => (done = true))
    await time.until(() => done)
    expect([buffer.claimedAppended, buffer.appended]).toEqual([claimed, appended])
    expect(buffer.replayable().sort()).toEqual([...ids, ...more].sort())
    expect(mk.stats()).toMatchObject({ tracked: 13, buffered: 13, acknowledged: 0, dropped: 0 })
    expect(time.timerCount).toBe(0)
  })

  it('a refused or failed group append leaves the events to memory, reported, and flush() waits for their answers', async () => {
    const { mk, time, collector, buffer, track, errors } = setup({ flushAt: 100 })
    buffer.failNextAppend = true
    const gate = newGate()
    collector.script.push({ hang: gate.promise })
    track(4)
    let flushed = false
    void mk.flush().then(() => (flushed = true))
    await time.advance(10)
    expect(errors.map((e) => e.code)).toEqual(['buffer_write_failed'])
    expect(flushed).toBe(false)
    buffer.capEvents = 2
    track(4)
    await time.advance(10)
    expect(errors.map((e) => e.code)).toEqual(['buffer_write_failed', 'buffer_full'])
    gate.resolve()
    await time.until(() => flushed)
    await mk.flush()
    await time.until(() => mk.stats().acknowledged === 8)
    expect(mk.stats()).toMatchObject({ tracked: 8, acknowledged: 8, dropped: 0, buffered: 0 })
  })

  it('loses nothing older than the window at any instant: each event is acknowledged or would be replayed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ count: fc.integer({ min: 0, max: 30 }), waitMs: fc.integer({ min: 0, max: 12 }), fault: fc.constantFrom('ok', 'ok', '503', 'lost', 'timeout') }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 40 }),
        async (steps, flushAt) => {
          const { mk, time, collector, buffer } = setup({ flushAt })
          const tracked: { id: string; at: number }[] = []
          for (const step of steps) {
            if (step.fault === '503') collector.script.push({ status: 503 })
            if (step.fault === 'lost') collector.script.push({ lost: true })
            if (step.fault === 'timeout') collector.script.push({ error: 'timeout' })
            for (let i = 0; i < step.count; i++) tracked.push({ id: mk.track({ event: 'e', customerId: 'c', properties: { i } }), at: time.now() })
            await time.advance(step.waitMs)
            // A crash now: acknowledgements are lost with the process, records on disk are not.
            const safe = new Set([...collector.stored.keys(), ...buffer.replayable()])
            for (const e of tracked) if (e.at <= time.now() - 5) expect(safe.has(e.id)).toBe(true)
            expect(mk.stats().buffered).toBeGreaterThanOrEqual(0)
          }
          await time.until(() => mk.stats().acknowledged === tracked.length)
          expect(collector.stored.size).toBe(tracked.length)
          expect(buffer.size).toBe(0)
          expect(mk.stats()).toMatchObject({ rejected: 0, dropped: 0, buffered: 0 })
        },
      ),
      { numRuns: 60 },
    )
  })
})
