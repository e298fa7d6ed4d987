import { afterEach, describe, expect, it } from 'vitest'
import { Meterkit, type FetchLike } from './index.js'

/** A collector behind fetch that accepts everything and records each request. */
function collector(status = 200) {
  const requests: { url: string; authorization: string; ids: string[] }[] = []
  const fetch: FetchLike = async (url, init) => {
    const ids = (JSON.parse(init.body!) as { events: { id: string }[] }).events.map((e) => e.id)
    requests.push({ url, authorization: init.headers.authorization!, ids })
    const body = status === 200
      ? JSON.stringify({ accepted: ids.length, duplicates: 0, conflicts: 0, rejected: 0, results: ids.map((id) => ({ id, status: 'accepted' })) })
      : JSON.stringify({ error: { code: 'unavailable', message: 'down' } })
    return { status, headers: { get: () => null }, text: async () => body }
  }
  return { fetch, requests }
}

const VERCEL = Symbol.for('@vercel/request-context')
afterEach(() => {
  delete (globalThis as Record<PropertyKey, unknown>)[VERCEL]
})

describe('@meterkit/edge', () => {
  it('sends the events of one turn together and hands that delivery to waitUntil', async () => {
    const c = collector()
    const pending: Promise<unknown>[] = []
    const mk = new Meterkit({ endpoint: 'https://meter.test/', apiKey: 'mk_sec_x', fetch: c.fetch, waitUntil: (p) => pending.push(p) })
    const ids = [mk.track({ event: 'api.call', customerId: 'c' }), mk.track({ event: 'api.call', customerId: 'c' })]
    expect(pending).toHaveLength(1)
    await Promise.all(pending)
    expect(c.requests).toEqual([{ url: 'https://meter.test/v1/events', authorization: 'Bearer mk_sec_x', ids }])
    const later = mk.track({ event: 'api.call', customerId: 'c' })
    expect(pending).toHaveLength(2)
    await Promise.all(pending)
    expect(c.requests.at(-1)!.ids).toEqual([later])
    expect(mk.stats()).toMatchObject({ tracked: 3, acknowledged: 3, inFlight: 0 })
  })

  it('uses the runtime’s own waitUntil where it exposes one (Vercel)', async () => {
    const c = collector()
    const pending: Promise<unknown>[] = []
    ;(globalThis as Record<PropertyKey, unknown>)[VERCEL] = { get: () => ({ waitUntil: (p: Promise<unknown>) => pending.push(p) }) }
    const mk = new Meterkit({ endpoint: 'https://meter.test', apiKey: 'k', fetch: c.fetch })
    mk.track({ event: 'api.call', customerId: 'c' })
    await Promise.all(pending)
    expect(c.requests).toHaveLength(1)
  })

  it('without any waitUntil, still sends at once; flush() resolves when delivered', async () => {
    const c = collector()
    const mk = new Meterkit({ endpoint: 'https://meter.test', apiKey: 'k', fetch: c.fetch })
    mk.track({ event: 'api.call', customerId: 'c' })
    await mk.flush()
    expect(c.requests).toHaveLength(1)
    expect(mk.stats().acknowledged).toBe(1)
  })

  it('gives up after 3 retries by default, visibly', async () => {
    const c = collector(503)
    const drops: string[] = []
    const mk = new Meterkit({ endpoint: 'https://meter.test', apiKey: 'k', fetch: c.fetch, random: () => 0, onDrop: (_e, reason) => drops.push(reason) })
    mk.track({ event: 'api.call', customerId: 'c' })
    await mk.flush()
    expect(c.requests).toHaveLength(4)
    expect(drops).toEqual(['retries_exhausted'])
  })

  it('refuses to start without endpoint and key', () => {
    expect(() => new Meterkit({ endpoint: 'x' } as never)).toThrow(TypeError)
  })
})
