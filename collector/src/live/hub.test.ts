import { FakeTime, settle } from '@meterkit/core/testing'
import { describe, expect, it } from 'vitest'
import type { Keyed, Subscriber } from './channel.js'
import { LiveHub, type LiveSource } from './hub.js'

/** A source whose figures are a counter per customer: refresh reads it, as usage reads the store. */
class CounterSource implements LiveSource {
  readonly values = new Map<string, number>()
  reads = 0
  private emit(customerId: string, emit: (m: Keyed) => void) {
    this.reads++
    const value = this.values.get(customerId) ?? 0
    emit({ key: 'usage:n', message: { type: 'usage', data: { meter: 'n', value: String(value) } }, fingerprint: String(value) })
  }
  async snapshot(_t: number, customerId: string, _now: number, emit: (m: Keyed) => void) {
    this.emit(customerId, emit)
  }
  async refresh(_t: number, customerId: string, changed: ReadonlySet<string>, _now: number, emit: (m: Keyed) => void) {
    if (changed.has('tick')) this.emit(customerId, emit)
  }
}

function subscriber(options: { capacity?: number; expiresAtMs?: number; meters?: string[] } = {}) {
  const frames: string[] = []
  let closed = false
  const s: Subscriber & { frames: string[]; readonly closed: boolean; values(): string[]; ids(): string[] } = {
    frames,
    get closed() {
      return closed
    },
    expiresAtMs: options.expiresAtMs,
    accepts: (key) => options.meters === undefined || options.meters.includes(key.slice(6)),
    write(frame) {
      frames.push(frame)
      return frames.length < (options.capacity ?? Infinity)
    },
    close() {
      closed = true
    },
    values: () => frames.filter((f) => f.includes('"value"')).map((f) => JSON.parse(f.split('data: ')[1]!).value),
    ids: () => frames.filter((f) => f.startsWith('id:')).map((f) => /^id: (\S+)/.exec(f)![1]!),
  }
  return s
}

function setup() {
  const time = new FakeTime()
  const hub = new LiveHub({ clock: time, timers: time })
  const source = new CounterSource()
  hub.addSource(source)
  const commit = (customerId: string, value: number) => {
    source.values.set(customerId, value)
    hub.committed(1, [{ customerId, event: 'tick' }])
  }
  return { time, hub, source, commit }
}

describe('LiveHub', () => {
  it('starts a stream with a snapshot, then sends each change once per throttle window, to that customer only', async () => {
    const { time, hub, source, commit } = setup()
    const a = subscriber()
    const b = subscriber()
    hub.subscribe(1, 'cus_a', a)
    hub.subscribe(1, 'cus_b', b)
    await settle()
    expect([a.values(), b.values()]).toEqual([['0'], ['0']])
    commit('cus_a', 1)
    await time.advance(0)
    expect(a.values()).toEqual(['0', '1'])
    // A burst within the window: one read, the last value.
    const reads = source.reads
    for (let i = 2; i <= 50; i++) commit('cus_a', i)
    await time.advance(249)
    expect(a.values()).toEqual(['0', '1'])
    await time.advance(1)
    expect(a.values()).toEqual(['0', '1', '50'])
    expect(source.reads - reads).toBe(1)
    expect(b.values()).toEqual(['0'])
    // A commit that changes no figure sends nothing.
    commit('cus_a', 50)
    await time.advance(1000)
    expect(a.values()).toEqual(['0', '1', '50'])
    expect(hub.streams).toBe(2)
  })

  it('resumes after Last-Event-ID with what changed since, or a snapshot when it cannot tell', async () => {
    const { time, hub, commit } = setup()
    const first = subscriber()
    const stop = hub.subscribe(1, 'cus_a', first)
    commit('cus_a', 1)
    await time.advance(0)
    const lastId = first.ids().at(-1)!
    stop()
    commit('cus_a', 2) // while no stream is open: read when one comes back
    const resumed = subscriber()
    hub.subscribe(1, 'cus_a', resumed, lastId)
    await time.advance(250) // the throttle window since the last read
    expect(resumed.values()).toEqual(['2'])
    const upToDate = subscriber()
    hub.subscribe(1, 'cus_a', upToDate, resumed.ids().at(-1))
    await time.advance(0)
    expect(upToDate.frames).toEqual([])
    for (const bad of ['zzz-1', 'garbage', `${hub.epoch}-999999`]) {
      const fresh = subscriber()
      hub.subscribe(1, 'cus_a', fresh, bad)
      await settle()
      expect(fresh.values()).toEqual(['2'])
    }
  })

  it('forgets a channel a while after its last stream: a resume is then a snapshot', async () => {
    const { time, hub, commit } = setup()
    const s = subscriber()
    const stop = hub.subscribe(1, 'cus_a', s)
    commit('cus_a', 1)
    await time.advance(0)
    stop()
    await time.advance(60_000)
    const later = subscriber()
    hub.subscribe(1, 'cus_a', later, s.ids().at(-1))
    await settle()
    expect(later.values()).toEqual(['1'])
    expect(later.ids()).toEqual([`${hub.epoch}-1`]) // snapshot frames carry the current id
  })

  it('publish() reaches open streams as the latest of its kind', async () => {
    const { time, hub } = setup()
    const s = subscriber()
    hub.subscribe(1, 'cus_a', s)
    hub.publish(1, 'cus_a', { type: 'balance', data: { balance: '10' } })
    hub.publish(1, 'cus_nobody', { type: 'balance', data: { balance: '99' } })
    await settle()
    expect(s.frames.at(-1)).toMatch(/^id: \S+-1\nevent: balance\ndata: \{"balance":"10"\}\n\n$/)
    const resumed = subscriber()
    hub.subscribe(1, 'cus_a', resumed, `${hub.epoch}-0`)
    await time.advance(0)
    expect(resumed.frames).toEqual([s.frames.at(-1)])
  })

  it('heartbeats every 15 s, ends streams when their token expires, closes streams that fall behind', async () => {
    const { time, hub, commit } = setup()
    const expiring = subscriber({ expiresAtMs: time.now() + 20_000 })
    const slow = subscriber({ capacity: 2 })
    const filtered = subscriber({ meters: ['other'] })
    hub.subscribe(1, 'cus_a', expiring)
    hub.subscribe(1, 'cus_a', slow)
    hub.subscribe(1, 'cus_a', filtered)
    await settle()
    await time.advance(15_000)
    expect(expiring.frames.at(-1)).toBe(': heartbeat\n\n')
    expect(filtered.frames).toEqual([': heartbeat\n\n'])
    expect(slow.closed).toBe(true)
    await time.advance(15_000)
    expect(expiring.closed).toBe(true)
    commit('cus_a', 3)
    hub.close()
    expect(filtered.closed).toBe(true)
    expect(time.timerCount).toBe(0)
  })
})

describe('LiveHub across processes (queue mode)', () => {
  it('tells the relay about its own commits, even with no stream open, and does not relay what it received', async () => {
    const time = new FakeTime()
    const relayed: { tenantId: number; events: { customerId: string; event: string }[] }[] = []
    const hub = new LiveHub({ clock: time, timers: time, relay: { publish: (tenantId, events) => relayed.push({ tenantId, events: [...events] }) } })
    const source = new CounterSource()
    hub.addSource(source)
    hub.committed(1, [{ customerId: 'a', event: 'tick' }])
    expect(relayed).toEqual([{ tenantId: 1, events: [{ customerId: 'a', event: 'tick' }] }])
    const s = subscriber()
    hub.subscribe(1, 'b', s)
    await time.advance(0)
    await settle()
    expect(s.values()).toEqual(['0'])
    // Another process committed for b: the stream here sends the new figure, and nothing is relayed back.
    source.values.set('b', 3)
    hub.received(1, [{ customerId: 'b', event: 'tick' }])
    await time.advance(300)
    await settle()
    expect(s.values()).toEqual(['0', '3'])
    expect(relayed).toHaveLength(1)
    hub.close()
  })
})
