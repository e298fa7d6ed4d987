// Secret API keys: create (the key is shown once, only its hash is kept), list and revoke.
// A key mints only keys with scopes it holds, and a test key only test keys.
import { type ApiKeyRecord, KEY_SCOPES, canMint, issueSecretKey } from '@meterkit/engine'
import { formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { readJsonBody } from './json.js'
import { instantSchema } from './subscriptions.js'

export const createKeySchema = z.object({
  name: z.string().max(200).optional(),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1, 'must list at least one scope (or leave scopes out for admin)').optional(),
  expiresAt: instantSchema.optional(),
  mode: z.enum(['live', 'test']).optional(),
}).strict()

const time = (ms: number | null) => (ms === null ? null : formatTimestamp(ms))

/** A key as listed: never its secret or hash. */
export function keyJson(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    mode: record.mode,
    createdAt: formatTimestamp(record.createdAtMs),
    expiresAt: time(record.expiresAtMs),
    revokedAt: time(record.revokedAtMs),
    lastUsedAt: time(record.lastUsedAtMs),
  }
}

export function keyRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.post('/', async (c) => {
    const principal = c.get('principal')
    if (principal.kind !== 'secret') throw new HttpError('forbidden', 'keys are created with a secret key')
    const input = await readJsonBody(c.req.raw, createKeySchema, { allowEmpty: true })
    const nowMs = ctx.clock.now()
    const scopes = input.scopes ?? ['admin']
    if (!canMint(principal.scopes, scopes)) {
      throw new HttpError('forbidden', `scopes: a key may only create keys with scopes it holds (${principal.scopes.join(', ')})`, { scopes: principal.scopes })
    }
    const mode = input.mode ?? principal.mode
    if (principal.mode === 'test' && mode === 'live') throw new HttpError('forbidden', 'mode: a test key creates test keys only')
    const expiresAtMs = input.expiresAt === undefined ? null : parseRfc3339(input.expiresAt)!
    if (expiresAtMs !== null && expiresAtMs <= nowMs) throw new HttpError('invalid_body', 'expiresAt: must be in the future')
    const { key, record } = await issueSecretKey(ctx.store, principal.tenantId, input.name ?? null, nowMs, { scopes, expiresAtMs, mode })
    return c.json({ ...keyJson(record), key }, 201)
  })

  app.get('/', async (c) => {
    const keys = await ctx.store.listApiKeys(c.get('principal').tenantId)
    return c.json({ data: keys.map(keyJson), nextCursor: null })
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
