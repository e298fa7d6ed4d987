// Times each successful POST /v1/billing/run for the billing-run histogram.
import { createMiddleware } from 'hono/factory'
import type { CollectorMetrics } from '../metrics.js'

export function billingRunTimer(metrics: CollectorMetrics) {
  return createMiddleware(async (c, next) => {
    const started = performance.now()
    await next()
    if (c.req.method === 'POST' && c.res.status === 200) metrics.billingRunSeconds.observe({ trigger: 'api' }, (performance.now() - started) / 1000)
  })
}
