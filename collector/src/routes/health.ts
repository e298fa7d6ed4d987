// Liveness, readiness and Prometheus metrics; no key needed.
import { errorBody } from '@meterkit/protocol'
import { Hono } from 'hono'
import type { AppContext } from '../app.js'

export function healthRoutes(ctx: AppContext) {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    if (!ctx.isAccepting()) return c.json(errorBody('unavailable', 'shutting down'), 503)
    const problem = ctx.writeHealth.problem()
    if (problem !== undefined) return c.json(errorBody('unavailable', `the store refused a write: ${problem}`), 503)
    try {
      await ctx.store.ping()
    } catch (err) {
      return c.json(errorBody('unavailable', `store unavailable: ${(err as Error).message}`), 503)
    }
    return c.json({ status: 'ready' })
  })
  app.get('/metrics', async (c) => {
    return c.text(await ctx.metrics.registry.metrics(), 200, { 'content-type': ctx.metrics.registry.contentType })
  })
  return app
}
