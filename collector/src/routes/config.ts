// PUT /v1/config and GET /v1/config: the tenant's meters, features and plans, versioned.
import { configSchema, formatTimestamp } from '@meterkit/protocol'
import { Hono } from 'hono'
import type { AppContext } from '../app.js'
import type { AuthEnv } from '../middleware/auth.js'
import { readJsonBody } from './json.js'

export function configRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.put('/', async (c) => {
    const config = await readJsonBody(c.req.raw, configSchema)
    const principal = c.get('principal')
    const applied = await ctx.store.applyConfig(principal.tenantId, config, principal.keyId, ctx.clock.now())
    ctx.configs.forget(principal.tenantId)
    return c.json({ version: applied.version, changed: applied.changed, appliedAt: formatTimestamp(applied.appliedAtMs), config: applied.config })
  })

  app.get('/', async (c) => {
    const current = await ctx.store.getConfig(c.get('principal').tenantId)
    return c.json({
      version: current.version,
      appliedAt: current.version === 0 ? null : formatTimestamp(current.appliedAtMs),
      config: current.config,
    })
  })

  return app
}
