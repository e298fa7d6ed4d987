// The hooks a browser wires to page lifecycle: handOff (beacons on pagehide) and retryNow (online).
import { describe, expect, it } from 'vitest'
import { Meterkit } from './client.js'
import type { MeterkitCoreOptions } from './options.js'
import type { SerializedEvent } from './event.js'
import { FakeCollector, FakeTime, MemoryBuffer, settle } from './testing.js'

class PageClient extends Meterkit {
  hide(send: (body: string) => boolean, maxBytes = 60 * 1024) {
    this.handOff(send, maxBytes)
  }
  online() {
    this.retryNow()
  }
}

function setup(options: Partial<MeterkitCoreOptions> = {}) {
  const time = new FakeTime()
  const collector = new FakeCollector()
  let n = 0
  const mk = new PageClient({ transport: collector, clock: time, timers: time, random: () => 0.5, generateId: () => `id-${++n}`, ...options })
  const track = (count: number, pad = 0) => {
    for (let i = 0; i < count; i++) mk.track({ event: 'page.view', customerId: 'cus_42', properties: { pad: 'x'.repeat(pad) } })
  }
  return { mk, time, collector, track }
}

const beaconed = (bodies: string[]) => bodies.flatMap((b) => (JSON.parse(b) as { events: { id: string }[] }).events.map((e) => e.id))

describe('handOff', () => {
  it('offers every queued event in batches under the byte cap, and flush() then has nothing to wait for', async () => {
    const { mk, track, collector } = setup()
    track(30, 3000)
    const bodies: string[] = []
    mk.hide((body) => bodies.push(body) > 0, 20_000)
    expect(bodies.length).toBeGreaterThan(1)
    for (const b of bodies) expect(new TextEncoder().encode(b).length).toBeLessThanOrEqual(20_000)
    expect(beaconed(bodies)).toEqual(Array.from({ length: 30 }, (_, i) => `id-${i + 1}`))
    await mk.flush()
    expect(collector.requests).toHaveLength(0)
  })

  it('keeps what the beacon refuses: in the buffer, from the first refusal on', async () => {
    const buffer = new MemoryBuffer()
    const { mk, track, collector, time } = setup({ buffer })
    collector.down = 'network'
    track(30, 3000)
    let offers = 0
    mk.hide(() => ++offers === 1, 20_000)
    expect(offers).toBe(2)
    await settle()
    expect(buffer.appended).toBeGreaterThan(0)
    expect(buffer.appended).toBeLessThan(30)
    collector.down = undefined
    await time.until(() => collector.stored.size === buffer.appended)
    expect(mk.stats().buffered).toBe(0)
  })

  it('keeps refused events with the buffer’s appendNow before returning, and sends them if the page lives on', async () => {
    /** Stores synchronously, as a browser's localStorage does. */
    class SyncBuffer extends MemoryBuffer {
      keptNow = 0
      appendNow(events: readonly SerializedEvent[]): boolean {
        this.keptNow += events.length
        ;(this as unknown as { held: object[] }).held.push(...events.map((e) => ({ ...e, token: 0 })))
        return true
      }
    }
    const buffer = new SyncBuffer()
    const { mk, track, collector, time } = setup({ buffer })
    track(5)
    mk.hide(() => false)
    expect(buffer.keptNow).toBe(5) // synchronously, inside the handler
    await mk.flush()
    await time.until(() => collector.stored.size === 5)
  })

  it('without a buffer, refused events stay queued and go out normally', async () => {
    const { mk, track, collector, time } = setup()
    track(5)
    mk.hide(() => false)
    await time.until(() => collector.stored.size === 5)
    expect(mk.stats()).toMatchObject({ tracked: 5, acknowledged: 5 })
  })
})

describe('retryNow', () => {
  it('ends the backoff wait at once', async () => {
    const { mk, track, collector } = setup({ random: () => 0.99 })
    collector.down = 'network'
    track(1)
    void mk.flush()
    await settle()
    expect(collector.requests).toHaveLength(1)
    collector.down = undefined
    mk.online()
    await settle()
    expect(collector.requests).toHaveLength(2)
    expect(mk.stats()).toMatchObject({ acknowledged: 1, retried: 1 })
  })
})
