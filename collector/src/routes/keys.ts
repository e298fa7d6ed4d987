// Secret API keys: create (the key is shown once, only its hash is kept) and revoke.
import { issueSecretKey } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { readJsonBody } from './json.js'

const createKeySchema = z.object({ name: z.string().max(200).optional() }).strict()

export function keyRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.post('/', async (c) => {
    const input = await readJsonBody(c.req.raw, createKeySchema, { allowEmpty: true })
    const { key, record } = await issueSecretKey(ctx.store, c.get('principal').tenantId, input.name ?? null, ctx.clock.now())
    return c.json({ id: record.id, key, name: record.name, createdAt: formatTimestamp(record.createdAtMs) }, 201)
  })

  app.delete('/:id', async (c) => {
    const id = c.req.param('id')
    if (!(await ctx.store.revokeApiKey(c.get('principal').tenantId, id, ctx.clock.now()))) {
      throw new HttpError('not_found', 'no key with this id')
    }
    ctx.keys.forgetKeyId(id)
    return c.json({ id, revoked: true })
  })

  return app
}
