// POST /v1/customer-tokens (secret key only): mints a browser token for one customer. The
// customer is created if the tenant has not seen it yet, as its first event would.
import { MAX_TOKEN_INGEST_EVENTS, hasScope } from '@meterkit/engine'
import {
  CONTROL_CHARACTERS,
  DEFAULT_CUSTOMER_TOKEN_TTL_SECONDS,
  ID_PATTERN,
  MAX_CUSTOMER_ID_LENGTH,
  MAX_CUSTOMER_TOKEN_TTL_SECONDS,
  MAX_EVENT_NAME_LENGTH,
  formatTimestamp,
} from '@meterkit/protocol'
import { z } from '@hono/zod-openapi'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, body, json, route, timestamp } from '../openapi/index.js'

// A lone surrogate cannot be encoded in the token: it would come back as another customer id.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const tokenSchema = z.object({
  customerId: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH)
    .refine((s) => !CONTROL_CHARACTERS.test(s) && !LONE_SURROGATE.test(s), 'must hold no control characters'),
  ttlSeconds: z.number().int('must be a whole number of seconds').min(1)
    .max(MAX_CUSTOMER_TOKEN_TTL_SECONDS, `must be at most ${MAX_CUSTOMER_TOKEN_TTL_SECONDS} (one hour)`).optional(),
  ingest: z.object({
    events: z.array(z.string().min(1).max(MAX_EVENT_NAME_LENGTH).regex(ID_PATTERN, 'must be 1–128 characters of A-Za-z0-9._:-'))
      .min(1, 'must list at least one event name').max(MAX_TOKEN_INGEST_EVENTS, `must list at most ${MAX_TOKEN_INGEST_EVENTS} event names`),
  }).strict().optional(),
}).strict()

const mintedSchema = z.object({
  token: z.string().meta({ description: 'The customer token, `mk_ct_…`; give it to that customer\'s browser' }),
  customerId: z.string(),
  expiresAt: timestamp,
})

export function customerTokenRoutes(ctx: AppContext) {
  const app = api()

  route(app, {
    method: 'post', path: '/', tags: ['Access'], summary: 'Mint a customer token',
    description: `A token for one customer's browser, valid ${DEFAULT_CUSTOMER_TOKEN_TTL_SECONDS} s by default and at most ${MAX_CUSTOMER_TOKEN_TTL_SECONDS} s. It reads that customer's usage, balance, entitlements, stream and quotes; with \`ingest.events\` it also sends those events for that customer (stored with source \`browser\`). The customer is created if the tenant has not seen it. Minting with \`ingest\` needs a key with the ingest scope.`,
    request: { body: body(tokenSchema) },
    responses: { 200: json(mintedSchema, 'The token') },
  }, async (c) => {
    const principal = c.get('principal')
    if (principal.kind !== 'secret') throw new HttpError('forbidden', 'customer tokens are minted with a secret key')
    const input = c.req.valid('json')
    // A key hands a browser no more than it holds: sending events needs the ingest scope.
    if (input.ingest !== undefined && !hasScope(principal.scopes, 'ingest')) {
      throw new HttpError('forbidden', 'ingest: a token that sends events is minted by a key with the ingest scope', { scope: 'ingest' })
    }
    const nowMs = ctx.clock.now()
    await ctx.store.putCustomer(principal.tenantId, { id: input.customerId }, nowMs)
    // Whole seconds: the token carries its expiry in epoch seconds.
    const expiresAtMs = (Math.floor(nowMs / 1000) + (input.ttlSeconds ?? DEFAULT_CUSTOMER_TOKEN_TTL_SECONDS)) * 1000
    const ingestEvents = input.ingest === undefined ? undefined : [...new Set(input.ingest.events)]
    const token = await ctx.tokens.mint({ tenantId: principal.tenantId, customerId: input.customerId, keyId: principal.keyId, expiresAtMs, ingestEvents }, nowMs)
    return c.json({ token, customerId: input.customerId, expiresAt: formatTimestamp(expiresAtMs) })
  })

  return app
}
