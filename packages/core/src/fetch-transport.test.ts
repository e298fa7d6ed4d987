import { describe, expect, it } from 'vitest'
import { FetchTransport, type FetchLike } from './fetch-transport.js'
import { FakeTime, settle } from './testing.js'

type Call = { url: string; method: string; headers: Record<string, string>; body?: string; keepalive?: boolean }

function fakeFetch(answers: (call: Call) => Promise<{ status: number; body?: string; headers?: Record<string, string> }>) {
  const calls: Call[] = []
  const fetch: FetchLike = async (url, init) => {
    const call = { url, method: init.method, headers: init.headers, body: init.body, keepalive: init.keepalive }
    calls.push(call)
    const aborted = new Promise<never>((_, reject) => {
      const signal = init.signal as AbortSignal & { addEventListener(t: string, f: () => void): void }
      signal.addEventListener('abort', () => reject(new Error('aborted')))
    })
    const answer = await Promise.race([answers(call), aborted])
    return { status: answer.status, headers: { get: (n: string) => answer.headers?.[n] ?? null }, text: async () => answer.body ?? '' }
  }
  return { fetch, calls }
}

describe('FetchTransport', () => {
  it('posts batches with the authorization of the moment and reads Retry-After', async () => {
    const { fetch, calls } = fakeFetch(async () => ({ status: 429, body: '{}', headers: { 'retry-after': '3' } }))
    let token = 'one'
    const t = new FetchTransport({ endpoint: 'http://c.test/', authorization: () => `Bearer ${token}`, fetch, keepalive: true })
    expect(await t.send({ body: '{"events":[]}', eventCount: 0 })).toEqual({ ok: true, status: 429, retryAfter: '3', body: '{}' })
    token = 'two'
    await t.exchange('GET', '/v1/customers/c/usage?meter=m')
    expect(calls.map((c) => [c.method, c.url, c.headers.authorization, c.headers['content-type'], c.keepalive])).toEqual([
      ['POST', 'http://c.test/v1/events', 'Bearer one', 'application/json', true],
      ['GET', 'http://c.test/v1/customers/c/usage?meter=m', 'Bearer two', undefined, true],
    ])
  })

  it('turns network errors and the deadline into failure values', async () => {
    const time = new FakeTime()
    const down = new FetchTransport({ endpoint: 'http://c.test', authorization: () => 'x', fetch: async () => { throw new TypeError('Failed to fetch') } })
    expect(await down.send({ body: '{}', eventCount: 0 })).toEqual({ ok: false, error: 'network', message: 'Failed to fetch' })
    const { fetch } = fakeFetch(() => new Promise(() => {}))
    const slow = new FetchTransport({ endpoint: 'http://c.test', authorization: () => 'x', fetch, timers: time, timeoutMs: 1000 })
    const pending = slow.send({ body: '{}', eventCount: 0 })
    await time.advance(1000)
    expect(await pending).toEqual({ ok: false, error: 'timeout', message: 'no answer within 1000 ms' })
    expect(time.timerCount).toBe(0)
  })

  it('sends once more after a 401 when the credentials were renewed', async () => {
    let token = 'old'
    const { fetch, calls } = fakeFetch(async (call) => ({ status: call.headers.authorization === 'Bearer new' ? 200 : 401, body: 'b' }))
    const renewing = new FetchTransport({
      endpoint: 'http://c.test', authorization: () => `Bearer ${token}`, fetch,
      renew: async () => { token = 'new'; return true },
    })
    expect(await renewing.send({ body: '{}', eventCount: 0 })).toMatchObject({ ok: true, status: 200 })
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer old', 'Bearer new'])
    const stuck = new FetchTransport({ endpoint: 'http://c.test', authorization: () => 'Bearer old', fetch, renew: async () => false })
    expect(await stuck.send({ body: '{}', eventCount: 0 })).toMatchObject({ ok: true, status: 401 })
    await stuck.close()
    expect(await stuck.send({ body: '{}', eventCount: 0 })).toMatchObject({ ok: false, message: 'transport closed' })
    await settle()
  })
})
