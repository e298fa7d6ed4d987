import { describe, expect, it } from 'vitest'
import type { CallContext } from './api-call.js'
import { MeterkitDeliveryError, MeterkitValidationError } from './errors.js'
import { releaseCredits, reserveCredits } from './reservations.js'
import { FakeTime } from './testing.js'
import type { ApiRequest, Transport, TransportResult } from './transport.js'

class ScriptedApi implements Transport {
  readonly calls: ApiRequest[] = []
  constructor(private readonly answers: TransportResult[]) {}
  async send(): Promise<TransportResult> {
    return { ok: true, status: 200, retryAfter: undefined, body: '{"results":[]}' }
  }
  async call(request: ApiRequest): Promise<TransportResult> {
    this.calls.push(request)
    return this.answers.shift() ?? { ok: false, error: 'network', message: 'no more answers' }
  }
}

const answer = (status: number, body: unknown, retryAfter?: string): TransportResult => ({ ok: true, status, retryAfter, body: JSON.stringify(body) })
const context = (transport: Transport, time = new FakeTime()): CallContext => ({ transport, clock: time, timers: time, random: () => 0.5 })

describe('reserve and release', () => {
  it('retries a reservation with the same id after a 503 and a network error', async () => {
    const time = new FakeTime()
    const granted = { id: 'x', customerId: 'cus_1', credits: '240', granted: true, available: '760', expiresAt: '2026-11-25T11:00:00.000Z' }
    const api = new ScriptedApi([answer(503, { error: { code: 'unavailable', message: 'busy' } }, '2'), { ok: false, error: 'network', message: 'reset' }, answer(201, granted)])
    let result: unknown
    void reserveCredits(context(api, time), { customerId: 'cus_1', credits: 240, ttlMs: 600_000 }).then((r) => (result = r))
    await time.until(() => result !== undefined, 60_000)
    expect(result).toEqual(granted)
    expect(api.calls).toHaveLength(3)
    const bodies = api.calls.map((c) => JSON.parse(c.body!) as { id: string; credits: string; ttlMs: number })
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1)
    expect(bodies[0]).toMatchObject({ customerId: 'cus_1', credits: '240', ttlMs: 600_000 })
    expect(bodies[0]!.id).toMatch(/^res_/)
    expect(api.calls[0]).toMatchObject({ method: 'POST', path: 'v1/reservations' })
  })

  it('does not retry a refusal, and names the field of a bad call', async () => {
    const api = new ScriptedApi([answer(400, { error: { code: 'invalid_body', message: 'credits: must be a decimal string' } }), answer(200, { id: 'job-1', released: true, available: '10' })])
    const ctx = context(api)
    const err = await reserveCredits(ctx, { customerId: 'c', credits: '1', id: 'job-1' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MeterkitDeliveryError)
    expect(err).toMatchObject({ code: 'invalid_body', httpStatus: 400 })
    expect(api.calls).toHaveLength(1)
    expect(await releaseCredits(ctx, 'job-1')).toEqual({ id: 'job-1', released: true, available: '10' })
    expect(api.calls[1]).toMatchObject({ method: 'POST', path: 'v1/reservations/job-1/release' })
    await expect(reserveCredits(ctx, { customerId: 'c', credits: -1 })).rejects.toThrow(MeterkitValidationError)
    await expect(reserveCredits(ctx, { customerId: '', credits: 1 })).rejects.toThrow(/customerId/)
  })
})
