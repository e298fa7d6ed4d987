// The fault proxy itself: each fault does what its name says, seen from both sides (a counting
// upstream on 127.0.0.1 and a fetch client), and a seed replays the same faults.
import { type IncomingMessage, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, type FaultRates, startFaultProxy } from '../support/fault-proxy.js'

/** Bodies the upstream received in full. */
const received: string[] = []
let upstream: Server
let upstreamUrl: string
const proxies: FaultProxy[] = []

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('error', () => undefined)
    req.on('end', () => {
      received.push(body)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ n: received.length, echo: body }))
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
})
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  received.length = 0
})
afterAll(async () => {
  upstream.closeAllConnections()
  await new Promise<void>((resolve) => upstream.close(() => resolve()))
})

async function proxy(rates: FaultRates, seed = 7): Promise<FaultProxy> {
  const p = await startFaultProxy({ upstream: upstreamUrl, seed, rates, maxDelayMs: 5 })
  proxies.push(p)
  return p
}

/** 'ok:<body>' when a whole reply arrived, 'error' when the client saw a network failure. */
async function call(url: string, body: string | ReadableStream<Uint8Array>): Promise<string> {
  try {
    const res = await fetch(`${url}/x`, { method: 'POST', body, duplex: 'half' } as RequestInit)
    return `ok:${(JSON.parse(await res.text()) as { echo: string }).echo}`
  } catch {
    return 'error'
  }
}

/** Waits (bounded) until the upstream has seen `n` whole bodies. */
async function upstreamSaw(n: number): Promise<void> {
  const deadline = Date.now() + 5000
  while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
}

describe('fault proxy', () => {
  it('pass: forwards the request and the reply, also for a chunked (streamed) body', async () => {
    const p = await proxy({})
    expect(await call(p.url, 'hello')).toBe('ok:hello')
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('chunk-one,'))
        c.enqueue(new TextEncoder().encode('chunk-two'))
        c.close()
      },
    })
    expect(await call(p.url, stream)).toBe('ok:chunk-one,chunk-two')
    expect(received).toEqual(['hello', 'chunk-one,chunk-two'])
    expect(p.stats).toMatchObject({ requests: 2, pass: 2 })
  })

  it('dropRequest: the client sees a failure and nothing reaches the upstream', async () => {
    const p = await proxy({ dropRequest: 1 })
    expect(await call(p.url, 'a')).toBe('error')
    expect(received).toEqual([])
    expect(p.stats.dropRequest).toBe(1)
  })

  it('dropResponse: the upstream got the whole request, the client sees a failure', async () => {
    const p = await proxy({ dropResponse: 1 })
    expect(await call(p.url, 'applied')).toBe('error')
    expect(received).toEqual(['applied'])
  })

  it('duplicate: the upstream gets the same bytes twice, the client one whole reply', async () => {
    const p = await proxy({ duplicate: 1 })
    expect(await call(p.url, 'twice')).toBe('ok:twice')
    expect(received).toEqual(['twice', 'twice'])
  })

  it('delay: passes after a pause', async () => {
    const p = await proxy({ delay: 1 })
    expect(await call(p.url, 'later')).toBe('ok:later')
    expect(received).toEqual(['later'])
  })

  it('reset: the client sees a failure; the upstream gets at most one whole request', async () => {
    const p = await proxy({ reset: 1 })
    const outcomes = []
    for (let i = 0; i < 20; i++) outcomes.push(await call(p.url, `r${i}-${'x'.repeat(200)}`))
    expect(outcomes.every((o) => o === 'error')).toBe(true)
    // Mid-request resets leave the upstream a prefix (aborted); mid-reply ones a whole request.
    await upstreamSaw(1)
    expect(received.length).toBeGreaterThan(0)
    expect(received.length).toBeLessThan(20)
    expect(new Set(received).size).toBe(received.length)
  })

  it('outage and failover: setUpstream(undefined) resets clients; setUpstream(url) resumes', async () => {
    const p = await proxy({})
    p.setUpstream(undefined)
    expect(await call(p.url, 'down')).toBe('error')
    expect(p.stats.upstreamErrors).toBe(1)
    p.setUpstream(upstreamUrl)
    expect(await call(p.url, 'up')).toBe('ok:up')
    expect(received).toEqual(['up'])
  })

  it('refuses an upstream that is not a loopback address, and rates over 1', async () => {
    await expect(startFaultProxy({ upstream: 'http://10.1.2.3:80', seed: 1 })).rejects.toThrow(/loopback/)
    await expect(startFaultProxy({ upstream: upstreamUrl, seed: 1, rates: { dropRequest: 0.6, reset: 0.6 } })).rejects.toThrow(/at most 1/)
  })

  it('a seed replays: the same requests meet the same faults, attempt by attempt', async () => {
    const rates = { dropRequest: 0.2, dropResponse: 0.2, duplicate: 0.2, reset: 0.2 }
    const run = async () => {
      const p = await proxy(rates, 99)
      const outcomes = []
      for (let i = 0; i < 10; i++) for (let attempt = 0; attempt < 3; attempt++) outcomes.push(await call(p.url, `body-${i}`))
      return { outcomes, stats: { ...p.stats } }
    }
    const a = await run()
    const b = await run()
    expect(b).toEqual(a)
    expect(a.stats.pass).toBeLessThan(30)
    expect(a.stats.pass).toBeGreaterThan(0)
  })
})
