import { describe, expect, it } from 'vitest'
import { BillingScheduler } from './billing-scheduler.js'
import { testApp } from './testing.js'

describe('the billing scheduler', () => {
  it('bills every tenant with subscriptions up to the clock, on its own interval', async () => {
    const t = await testApp()
    try {
      await t.json('PUT', '/v1/config', { plans: [{ key: 'p', currency: 'EUR', interval: 'day', charges: [{ key: 'fee', model: 'flat', amount: '1.5' }] }] })
      await t.json('POST', '/v1/subscriptions', { customerId: 'c', plan: 'p', startAt: '2026-11-20T00:00:00Z' })
      let tick: (() => void) | undefined
      const timers = { setInterval: (fn: () => void) => ((tick = fn), {}), clearInterval: () => undefined }
      const scheduler = new BillingScheduler(t.store, t.clock, 60_000, () => undefined, timers)
      scheduler.start()
      // Clock at 2026-11-25T10:00Z: daily boundaries Nov 20 … Nov 25, each final one hour after.
      tick!()
      await scheduler.tick()
      const list = (await t.json('GET', '/v1/invoices?customerId=c')).body.data as { total: string; status: string }[]
      expect(list).toHaveLength(6)
      expect(list.every((i) => i.total === '1.50' && i.status === 'finalized')).toBe(true)
      t.clock.advance(86_400_000)
      await scheduler.tick()
      expect((await t.json('GET', '/v1/invoices?customerId=c')).body.data).toHaveLength(7)
      await scheduler.stop()
    } finally {
      await t.close()
    }
  })
})
