// PUT /v1/config and GET /v1/config: the tenant's meters, features and plans, versioned.
import { z } from '@hono/zod-openapi'
import { configSchema, formatTimestamp } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { api, body, json, route, timestamp } from '../openapi/index.js'

const tags = ['Configuration']

const config = configSchema.meta({ id: 'Configuration', description: 'Meters (what to count), features (what a plan allows) and plans (what they cost), with webhooks and browser origins' })

export function configRoutes(ctx: AppContext) {
  const app = api()

  route(app, {
    method: 'put', path: '/', tags, summary: 'Apply a configuration',
    description: 'Replaces the meters, features and plans. Applying the current configuration again changes nothing and keeps its version.',
    request: { body: body(config) },
    responses: {
      200: json(z.object({ version: z.number().int(), changed: z.boolean(), appliedAt: timestamp, config }), 'The configuration now in force, and whether this request changed it'),
    },
  }, async (c) => {
    const principal = c.get('principal')
    const applied = await ctx.store.applyConfig(principal.tenantId, c.req.valid('json'), principal.keyId, ctx.clock.now())
    ctx.configs.forget(principal.tenantId)
    return c.json({ version: applied.version, changed: applied.changed, appliedAt: formatTimestamp(applied.appliedAtMs), config: applied.config })
  })

  route(app, {
    method: 'get', path: '/', tags, summary: 'Read the configuration',
    responses: {
      200: json(z.object({ version: z.number().int(), appliedAt: timestamp.nullable(), config }), 'The configuration in force; version 0 with no meters, features or plans before the first is applied'),
    },
  }, async (c) => {
    const current = await ctx.store.getConfig(c.get('principal').tenantId)
    return c.json({
      version: current.version,
      appliedAt: current.version === 0 ? null : formatTimestamp(current.appliedAtMs),
      config: current.config,
    })
  })

  return app
}
