// Liveness, readiness and Prometheus metrics; no key needed.
import { z } from '@hono/zod-openapi'
import { errorBody } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { api, errorResponse, json, route } from '../openapi/index.js'

const tags = ['Operations']

export function healthRoutes(ctx: AppContext) {
  const app = api()

  route(app, {
    method: 'get', path: '/healthz', tags, summary: 'Liveness',
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'The process answers') },
  }, (c) => c.json({ status: 'ok' }))

  route(app, {
    method: 'get', path: '/readyz', tags, summary: 'Readiness',
    description: 'Ready when the store answers and accepts writes and the collector is not shutting down: a load balancer sends traffic only to a collector that can commit it. In queue mode, ready when NATS answers and the event stream has room.',
    responses: {
      200: json(z.object({ status: z.literal('ready') }), 'Ready for traffic'),
      503: errorResponse(503),
    },
  }, async (c) => {
    if (!ctx.isAccepting()) return c.json(errorBody('unavailable', 'shutting down'), 503)
    const problem = ctx.writeHealth.problem()
    if (problem !== undefined) return c.json(errorBody('unavailable', `the store refused a write: ${problem}`), 503)
    if (ctx.readiness !== undefined) {
      const queueProblem = await ctx.readiness()
      return queueProblem === undefined ? c.json({ status: 'ready' }) : c.json(errorBody('unavailable', queueProblem), 503)
    }
    try {
      await ctx.store.ping()
    } catch (err) {
      return c.json(errorBody('unavailable', `store unavailable: ${(err as Error).message}`), 503)
    }
    return c.json({ status: 'ready' })
  })

  route(app, {
    method: 'get', path: '/metrics', tags, summary: 'Prometheus metrics',
    responses: { 200: { description: 'The Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  }, async (c) => {
    return c.text(await ctx.metrics.registry.metrics(), 200, { 'content-type': ctx.metrics.registry.contentType })
  })

  return app
}
