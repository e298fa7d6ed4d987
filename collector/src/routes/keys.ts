// Secret API keys: create (the key is shown once, only its hash is kept), list and revoke.
// A key mints only keys with scopes it holds, and a test key only test keys.
import { type ApiKeyRecord, KEY_SCOPES, canMint, issueSecretKey } from '@meterkit/engine'
import { formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import { z } from '@hono/zod-openapi'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, instant, json, optionalBody, page, pathParams, route, timestamp } from '../openapi/index.js'

const tags = ['Access']

export const createKeySchema = z.object({
  name: z.string().max(200).optional(),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1, 'must list at least one scope (or leave scopes out for admin)').optional()
    .meta({ description: 'Default `["admin"]`. A key creates only keys with scopes it holds.' }),
  expiresAt: instant.optional(),
  mode: z.enum(['live', 'test']).optional().meta({ description: 'Default: the mode of the key that creates it; a test key creates test keys only' }),
}).strict()

const keySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  scopes: z.array(z.enum(KEY_SCOPES)),
  mode: z.enum(['live', 'test']),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable().meta({ description: 'Written at most once a minute per collector process' }),
}).meta({ id: 'ApiKey' })

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
  const app = api()

  route(app, {
    method: 'post', path: '/', tags, summary: 'Create a secret key',
    description: 'The key is in this answer only: the collector keeps its hash.',
    request: { body: optionalBody(createKeySchema) },
    responses: { 201: json(keySchema.extend({ key: z.string().meta({ description: 'The secret key, `mk_sec_…` (or `mk_test_…`), shown this once' }) }), 'The new key') },
  }, async (c) => {
    const principal = c.get('principal')
    if (principal.kind !== 'secret') throw new HttpError('forbidden', 'keys are created with a secret key')
    const input = c.req.valid('json')
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

  route(app, {
    method: 'get', path: '/', tags, summary: 'List secret keys',
    description: 'Every key of the tenant, revoked ones included; never a secret or a hash.',
    responses: { 200: json(page(keySchema), 'The keys, on one page') },
  }, async (c) => {
    const keys = await ctx.store.listApiKeys(c.get('principal').tenantId)
    return c.json({ data: keys.map(keyJson), nextCursor: null })
  })

  route(app, {
    method: 'delete', path: '/{id}', tags, summary: 'Revoke a secret key',
    description: 'The key stops working at once in this process, and within the key cache\'s lifetime (5 s by default) in others; its customer tokens stop with it.',
    request: { params: pathParams('id') },
    responses: { 200: json(z.object({ id: z.string(), revoked: z.literal(true) }), 'Revoked') },
  }, async (c) => {
    const id = c.req.valid('param').id
    if (!(await ctx.store.revokeApiKey(c.get('principal').tenantId, id, ctx.clock.now()))) {
      throw new HttpError('not_found', 'no key with this id')
    }
    ctx.keys.forgetKeyId(id)
    return c.json({ id, revoked: true })
  })

  return app
}
