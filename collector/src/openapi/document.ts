// The OpenAPI 3.1 document of the collector, generated from the routes' specs. Who may call an
// operation is not declared per route but read from the tables authentication enforces
// (middleware/scopes.ts, middleware/token-routes.ts), so the document says what the code does.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AuthEnv } from '../middleware/auth.js'
import { requiredScope } from '../middleware/scopes.js'
import { tokenRoute } from '../middleware/token-routes.js'
import { ERROR_DESCRIPTIONS, errorSchema } from './schemas.js'

export const TAGS = [
  { name: 'Events', description: 'Send usage events, backfill them, read, void and amend them' },
  { name: 'Customers', description: 'Customers and their metered usage' },
  { name: 'Credits', description: 'Balances, ledgers, grants, top-ups, reservations, quotes and entitlements' },
  { name: 'Billing', description: 'Subscriptions, invoices, billing runs and simulations' },
  { name: 'Configuration', description: 'Meters, features and plans, versioned' },
  { name: 'Access', description: 'Secret keys and customer tokens' },
  { name: 'Webhooks', description: 'Webhook endpoints and deliveries' },
  { name: 'Reports', description: 'Revenue, usage revenue, credits, active customers and the ingest rate by period; CSV exports' },
  { name: 'Operations', description: 'Health, readiness, metrics and this reference; no key needed' },
]

const SECURITY_SCHEMES = {
  secretKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'mk_sec_…',
    description: 'A secret key of the tenant (`mk_sec_…`, or `mk_test_…` for its test mode). Keys hold scopes: `ingest`, `read`, `admin` (admin holds all). Never put one in a browser.',
  },
  customerToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'mk_ct_…',
    description: 'A customer token (`mk_ct_…`, minted by `POST /v1/customer-tokens`, at most 1 h, one customer): safe in a browser, it reads its customer\'s usage, balance, entitlements, stream, quotes, ledger and invoices, and sends events only when minted with `ingest.events`.',
  },
  customerTokenQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'A customer token as `?token=`, for `sendBeacon` and `EventSource`, which cannot set headers. Secret keys are refused here.',
  },
} as const

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const

interface Operation {
  summary?: string
  operationId?: string
  parameters?: { in: string }[]
  requestBody?: unknown
  responses: Record<string, unknown>
  security?: Record<string, string[]>[]
  description?: string
  'x-required-scope'?: string
}

/** An error answer in the generated document: the `Error` component. */
function errorAnswer(status: number) {
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  }
}

const withErrorSchema = new WeakSet<object>()

/** The error answers any operation of this kind may give, besides those its route declares. */
function commonErrors(path: string, op: Operation): number[] {
  const statuses: number[] = []
  if (op.requestBody !== undefined || (op.parameters ?? []).some((p) => p.in === 'query')) statuses.push(400)
  if (path.startsWith('/v1/')) statuses.push(401, 403)
  if (path.includes('{')) statuses.push(404)
  if (op.requestBody !== undefined) statuses.push(413, 415)
  if (path.startsWith('/v1/')) statuses.push(500, 503)
  return statuses
}

/** Who may call `method path`: a secret key with the scope authentication asks, or also a customer token. */
function access(method: string, path: string, op: Operation): void {
  if (!path.startsWith('/v1/')) {
    op.security = []
    return
  }
  // The tables match raw paths: any value stands for a parameter.
  const sample = path.replace(/\{[^}]+\}/g, 'x')
  const scope = requiredScope(method.toUpperCase(), sample)
  const token = tokenRoute(method.toUpperCase(), sample)
  op.security = [{ secretKey: [] }]
  if (token !== undefined) op.security.push({ customerToken: [] })
  if (token?.queryToken) op.security.push({ customerTokenQuery: [] })
  op['x-required-scope'] = scope
  const holder = token === undefined ? '' : `, or a customer token (its own customer only${token.ingest ? ', minted with `ingest.events`' : ''})`
  const who = `Secret key with the \`${scope}\` scope${holder}.`
  op.description = op.description === undefined ? who : `${op.description}\n\n${who}`
}

/**
 * The operation's name for client generators, from its summary when the spec gives none:
 * "Read a customer's balance" → `readCustomerBalance`.
 */
function operationId(summary: string): string {
  const words = summary.replace(/'s\b/g, '').split(/[^A-Za-z0-9]+/).filter((w) => w !== '' && !['a', 'an', 'the'].includes(w.toLowerCase()))
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase())).join('')
}

/** The OpenAPI 3.1 document of every route declared on `app` with `route()`. */
export function openApiDocument(app: OpenAPIHono<AuthEnv>): Record<string, unknown> {
  if (!withErrorSchema.has(app)) {
    app.openAPIRegistry.register('Error', errorSchema)
    withErrorSchema.add(app)
  }
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Meterkit collector API',
      version: '1',
      description: 'Usage events in, metered usage, credits and invoices out. JSON with camelCase keys; times are RFC 3339 (answered in UTC with milliseconds); money and credits are decimal strings; every error answers `{ "error": { "code", "message", "details"? } }` with the field named in the message.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: [{ url: 'http://127.0.0.1:8790', description: 'A local `meterkit start`' }],
    tags: TAGS,
  })
  const paths = (document.paths ?? {}) as Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (op === undefined) continue
      access(method, path, op)
      op.operationId ??= operationId(op.summary ?? `${method} ${path}`)
      for (const status of commonErrors(path, op)) op.responses[status] ??= errorAnswer(status)
      // Keep responses in status order whatever order they were declared or added in.
      op.responses = Object.fromEntries(Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)))
    }
  }
  const components = (document.components ?? {}) as Record<string, unknown>
  return { ...document, components: { ...components, securitySchemes: SECURITY_SCHEMES } }
}

/** The document as committed in docs/openapi.json. */
export function openApiJson(app: OpenAPIHono<AuthEnv>): string {
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`
}
