// The browser client in Node, against mocked collector answers (fetch and EventSource stubbed):
// reads, token renewal, tracking defaults and live updates. IndexedDB, beacons and the page
// lifecycle are tested in Chromium (test/browser).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Meterkit, MeterkitRequestError, type LiveUpdate } from './index.js'

type Answer = { status: number; body: unknown }
type Call = { method: string; url: string; authorization: string | undefined; body: unknown }

let calls: Call[]
let answer: (call: Call) => Answer

beforeEach(() => {
  calls = []
  answer = () => ({ status: 200, body: {} })
  vi.stubGlobal('fetch', async (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
    const call = { method: init.method, url, authorization: init.headers.authorization, body: init.body === undefined ? undefined : JSON.parse(init.body) }
    calls.push(call)
    const { status, body } = answer(call)
    return new Response(JSON.stringify(body), { status })
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
})

const QUOTE = { credits: '48', amount: '0.48', currency: 'USD', lines: [{ charge: 'render', credits: '48' }] }
const BALANCE = { balance: '952', available: '900', reserved: '52', grants: [] }

describe('reads', () => {
  it('quote(), usage() and balance() call the contract’s routes for the token’s customer', async () => {
    answer = (c) => ({ status: 200, body: c.url.includes('/quotes') ? QUOTE : c.url.includes('/balance') ? BALANCE : { meter: 'gpu', value: '12.5' } })
    const mk = new Meterkit({ endpoint: 'https://meter.test/', token: 'mk_ct_a.b', customerId: 'cus/42' })
    expect(await mk.quote({ event: 'render.completed', properties: { gpuSeconds: 12 } })).toEqual(QUOTE)
    expect(await mk.usage({ meter: 'gpu', from: new Date('2026-11-01T00:00:00Z'), window: 'day', groupBy: ['resolution', 'model'] })).toMatchObject({ value: '12.5' })
    expect(await mk.balance()).toEqual(BALANCE)
    expect(calls.map((c) => [c.method, c.url, c.authorization])).toEqual([
      ['POST', 'https://meter.test/v1/quotes', 'Bearer mk_ct_a.b'],
      ['GET', 'https://meter.test/v1/customers/cus%2F42/usage?meter=gpu&from=2026-11-01T00%3A00%3A00.000Z&window=day&groupBy=resolution%2Cmodel', 'Bearer mk_ct_a.b'],
      ['GET', 'https://meter.test/v1/customers/cus%2F42/balance', 'Bearer mk_ct_a.b'],
    ])
    expect(calls[0]!.body).toEqual({ customerId: 'cus/42', event: 'render.completed', properties: { gpuSeconds: 12 } })
  })

  it('reject with the collector’s error code', async () => {
    answer = () => ({ status: 404, body: { error: { code: 'not_found', message: 'no customer with this id' } } })
    const mk = new Meterkit({ endpoint: 'https://meter.test', token: 't', customerId: 'c' })
    const err = await mk.balance().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MeterkitRequestError)
    expect(err).toMatchObject({ code: 'not_found', message: 'no customer with this id', httpStatus: 404 })
    vi.stubGlobal('fetch', async () => { throw new TypeError('Failed to fetch') })
    await expect(mk.usage({ meter: 'm' })).rejects.toMatchObject({ code: 'network' })
  })
})

describe('tokens', () => {
  it('a token function is asked at start and again when the collector refuses the token', async () => {
    let issued = 0
    const token = vi.fn(async () => `mk_ct_${++issued}`)
    answer = (c) => (c.authorization === `Bearer mk_ct_${issued}` && issued >= 2 ? { status: 200, body: BALANCE } : { status: 401, body: { error: { code: 'unauthorized', message: 'expired' } } })
    const mk = new Meterkit({ endpoint: 'https://meter.test', token, customerId: 'c' })
    expect(await mk.balance()).toEqual(BALANCE)
    expect(token).toHaveBeenCalledTimes(2)
    expect(calls.map((c) => c.authorization)).toEqual(['Bearer mk_ct_1', 'Bearer mk_ct_2'])
  })

  it('track() defaults to the token’s customer and sends with the token', async () => {
    answer = (c) => {
      const events = (c.body as { events: { id: string }[] }).events
      return { status: 200, body: { accepted: events.length, duplicates: 0, conflicts: 0, rejected: 0, results: events.map((e) => ({ id: e.id, status: 'accepted' })) } }
    }
    const mk = new Meterkit({ endpoint: 'https://meter.test', token: 'mk_ct_x', customerId: 'cus_42' })
    mk.track({ event: 'page.view', properties: { path: '/pricing' } })
    await mk.flush()
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ method: 'POST', url: 'https://meter.test/v1/events', authorization: 'Bearer mk_ct_x' })
    expect((calls[0]!.body as { events: object[] }).events[0]).toMatchObject({ event: 'page.view', customerId: 'cus_42' })
    expect(mk.stats()).toMatchObject({ tracked: 1, acknowledged: 1, buffered: 0 })
    await mk.shutdown()
  })
})

/** An EventSource stand-in: the test plays the collector's side. */
class FakeEventSource {
  static CLOSED = 2
  static opened: FakeEventSource[] = []
  readyState = 1
  onerror: (() => void) | null = null
  readonly listeners = new Map<string, (e: { data: string; lastEventId: string }) => void>()
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this)
  }
  addEventListener(type: string, fn: (e: { data: string; lastEventId: string }) => void) {
    this.listeners.set(type, fn)
  }
  emit(type: string, id: string, data: unknown) {
    this.listeners.get(type)?.({ data: JSON.stringify(data), lastEventId: id })
  }
  refuse() {
    this.readyState = FakeEventSource.CLOSED
    this.onerror?.()
  }
  close() {
    this.readyState = FakeEventSource.CLOSED
  }
}

describe('subscribe()', () => {
  it('delivers usage and balance updates; an expired token is renewed and the stream resumes', async () => {
    vi.useFakeTimers()
    try {
      FakeEventSource.opened = []
      vi.stubGlobal('EventSource', FakeEventSource)
      let issued = 0
      const mk = new Meterkit({ endpoint: 'https://meter.test', token: async () => `tok${++issued}`, customerId: 'cus_42' })
      const updates: LiveUpdate[] = []
      const unsubscribe = mk.subscribe((u) => updates.push(u))
      await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(1)) // the live module loads on first use
      const first = FakeEventSource.opened[0]!
      expect(first.url).toBe('https://meter.test/v1/customers/cus_42/stream?token=tok1')
      first.emit('usage', 'e-1', { meter: 'gpu', value: '1' })
      first.emit('balance', 'e-2', { balance: '10' })
      expect(updates).toEqual([{ type: 'usage', data: { meter: 'gpu', value: '1' } }, { type: 'balance', data: { balance: '10' } }])

      first.refuse()
      await vi.advanceTimersByTimeAsync(1000)
      const second = FakeEventSource.opened[1]!
      expect(second.url).toBe('https://meter.test/v1/customers/cus_42/stream?lastEventId=e-2&token=tok2')
      unsubscribe()
      expect(second.readyState).toBe(FakeEventSource.CLOSED)
    } finally {
      vi.useRealTimers()
    }
  })
})
