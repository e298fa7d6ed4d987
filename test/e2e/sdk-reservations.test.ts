// mk.reserve() / mk.release() from the Node SDK against a real collector: a render reserves its
// credits, a failed one releases them, a finished one settles with its event.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Meterkit } from '../../packages/node/src/index.js'
import { ADMIN_KEY, startCollector, tempDir } from '../support/collector-process.js'

const api = (url: string, method: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))

describe('reservations from the Node SDK', () => {
  it('reserves, releases, and settles through a tracked event', async () => {
    const collector = await startCollector(join(tempDir(), 'meterkit.db'))
    const mk = new Meterkit({ endpoint: collector.url, apiKey: ADMIN_KEY, flushIntervalMs: 50 })
    try {
      const config = {
        meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }],
        plans: [{ key: 'p', currency: 'USD', interval: 'month', creditPrice: '0.01', overage: 'block', charges: [{ key: 'gpu', meter: 'gpu', unit: 'credits', model: 'per_unit', unitAmount: '2' }] }],
      }
      expect((await api(collector.url, 'PUT', '/v1/config', config)).status).toBe(200)
      expect((await api(collector.url, 'POST', '/v1/subscriptions', { customerId: 'cus_r', plan: 'p', startAt: new Date(Date.now() - 86_400_000).toISOString() })).status).toBe(201)
      expect((await api(collector.url, 'POST', '/v1/customers/cus_r/grants', { credits: '100' })).status).toBe(201)

      const failed = await mk.reserve({ customerId: 'cus_r', credits: 60, id: 'job-failed' })
      expect(failed).toMatchObject({ id: 'job-failed', granted: true, available: '40' })
      expect(await mk.reserve({ customerId: 'cus_r', credits: 60, id: 'too-much' })).toMatchObject({ granted: false, available: '40' })
      expect(await mk.release('job-failed')).toMatchObject({ released: true, available: '100' })

      const job = await mk.reserve({ customerId: 'cus_r', credits: 50 })
      expect(job.granted).toBe(true)
      mk.track({ event: 'render.completed', customerId: 'cus_r', properties: { gpuSeconds: 20 }, reservationId: job.id })
      await mk.flush()
      // 20 GPU seconds × 2 = 40 deducted; the 50 held are free again.
      expect((await api(collector.url, 'GET', '/v1/customers/cus_r/balance')).body).toMatchObject({ balance: '60', available: '60', reserved: '0' })
    } finally {
      await mk.shutdown()
      collector.child.kill('SIGTERM')
      await collector.exited
    }
  }, 30_000)
})
