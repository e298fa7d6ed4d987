// Authorization matrix: every endpoint that exists × every kind of credential. Unexpected
// allows = 0: without a valid key nothing is read or changed; another tenant's key, and the
// tenant's own test-mode key, never see or change this tenant's data (404, an empty list, or an
// effect inside its own tenant only); a key with narrower scopes reaches only the endpoints its
// scopes allow (403 naming the scope elsewhere); expired and revoked keys reach nothing (401);
// a customer token reaches only its own customer's routes, and sends only what it allows.
// Data-driven: a new endpoint is one line in ENDPOINTS, a new credential one line in CREDENTIALS.
import { hashKey, newSecretKey } from '@meterkit/engine'
import { afterAll, describe, expect, it } from 'vitest'
import { type TestApp, testApp } from '../../collector/src/testing.js'

interface Fixture {
  t: TestApp
  /** Tenant A: the tenant under attack; the matrix's "valid" key belongs to it. */
  tenantA: number
  eventId: string
  /** A live key of tenant A other than the valid one (the target of DELETE /v1/keys/:id). */
  spareKeyId: string
  subscriptionId: string
  invoiceId: string
  /** A webhook endpoint of A registered over the API, and a finished delivery of A's. */
  endpointId: string
  deliveryId: string
  keys: Record<CredentialName, string | undefined>
  headers: Record<CredentialName, Record<string, string>>
}

/** What another tenant's valid key must get: nothing of A's (see `check`). */
type Foreign = 'public' | 'not_found' | 'empty_list' | 'own_tenant'

interface Endpoint {
  route: string
  path: (f: Fixture) => string
  body?: (f: Fixture) => unknown
  /** Content type of the body when it is not JSON (the body is then sent as the string it is). */
  contentType?: string
  headers?: Record<string, string>
  /** Status with tenant A's valid key. */
  owner: number
  foreign: Foreign
  /** Statuses with live customer tokens, on routes a token may use; elsewhere every token gets 403. */
  tokens?: Record<LiveToken, number>
  /** The key scope the endpoint needs (`ingest+read`: both); admin keys have every scope. Public endpoints need none. */
  scope?: 'ingest' | 'read' | 'admin' | 'ingest+read'
}

/** Keys of tenant A with narrower scopes than admin, and the scopes each holds. */
type ScopedKey = 'ingest key' | 'read key' | 'ingest+read key'
const SCOPED_KEYS: Record<ScopedKey, string[]> = { 'ingest key': ['ingest'], 'read key': ['read'], 'ingest+read key': ['ingest', 'read'] }
const scopeAllows = (key: ScopedKey, scope: NonNullable<Endpoint['scope']>) => scope.split('+').every((s) => SCOPED_KEYS[key].includes(s))

/** Customer tokens that have not expired (an expired one always gets 401). */
type LiveToken = 'read-only token' | 'ingest token' | 'other customer token' | 'other tenant token'
const LIVE_TOKENS: LiveToken[] = ['read-only token', 'ingest token', 'other customer token', 'other tenant token']

// Every route of collector/src/app.ts and collector/src/routes/*.ts today.
const ENDPOINTS: Endpoint[] = [
  { route: 'GET /healthz', path: () => '/healthz', owner: 200, foreign: 'public' },
  { route: 'GET /readyz', path: () => '/readyz', owner: 200, foreign: 'public' },
  { route: 'GET /metrics', path: () => '/metrics', owner: 200, foreign: 'public' },
  {
    // Tokens that may send events get 200 with every event rejected (forbidden_customer: the probe is for another customer).
    route: 'POST /v1/events', path: () => '/v1/events', body: (f) => ({ events: [probeEvent(f)] }), owner: 200, foreign: 'own_tenant', scope: 'ingest',
    tokens: { 'read-only token': 403, 'ingest token': 200, 'other customer token': 200, 'other tenant token': 200 },
  },
  { route: 'GET /v1/events', path: () => '/v1/events?limit=1000', owner: 200, foreign: 'empty_list' },
  { route: 'GET /v1/events?customerId', path: () => `/v1/events?customerId=${SECRET_CUSTOMER}`, owner: 200, foreign: 'empty_list' },
  { route: 'GET /v1/events/:id', path: (f) => `/v1/events/${f.eventId}`, owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/keys', path: () => '/v1/keys', body: () => ({ name: 'matrix' }), owner: 201, foreign: 'own_tenant' },
  { route: 'POST /v1/keys (scoped, expiring)', path: () => '/v1/keys', body: () => ({ scopes: ['ingest'], expiresAt: '2027-01-01T00:00:00Z' }), owner: 201, foreign: 'own_tenant' },
  { route: 'POST /v1/keys (test mode)', path: () => '/v1/keys', body: () => ({ mode: 'test' }), owner: 201, foreign: 'own_tenant' },
  // Listing keys is admin work: names, scopes and use of every credential.
  { route: 'GET /v1/keys', path: () => '/v1/keys', owner: 200, foreign: 'own_tenant', scope: 'admin' },
  { route: 'DELETE /v1/keys/:id', path: (f) => `/v1/keys/${f.spareKeyId}`, owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/events/:id/void', path: (f) => `/v1/events/${f.eventId}/void`, body: () => ({ reason: 'matrix' }), owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/events/:id/amend', path: (f) => `/v1/events/${f.eventId}/amend`, body: () => ({ properties: { gpuSeconds: 1 }, reason: 'matrix' }), owner: 200, foreign: 'not_found' },
  {
    route: 'POST /v1/events/import', path: () => '/v1/events/import', contentType: 'application/x-ndjson',
    body: (f) => `${JSON.stringify({ ...probeEvent(f), id: 'imported-probe' })}\n${JSON.stringify(probeEvent(f))}\n`, owner: 200, foreign: 'own_tenant',
  },
  { route: 'GET /v1/config', path: () => '/v1/config', owner: 200, foreign: 'own_tenant' },
  { route: 'PUT /v1/config', path: () => '/v1/config', body: () => ({ meters: [{ key: 'other', event: 'x', aggregation: 'count' }] }), owner: 200, foreign: 'own_tenant' },
  { route: 'POST /v1/customers', path: () => '/v1/customers', body: () => ({ id: 'cus_matrix_new', name: 'n' }), owner: 201, foreign: 'own_tenant' },
  { route: 'GET /v1/customers/:id', path: () => `/v1/customers/${SECRET_CUSTOMER}`, owner: 200, foreign: 'not_found' },
  {
    // Another tenant's token for a customer with the same id reads its own tenant, where that customer is unknown: 404.
    route: 'GET /v1/customers/:id/usage', path: () => `/v1/customers/${SECRET_CUSTOMER}/usage?meter=gpu&from=2026-11-01T00:00:00Z`, owner: 200, foreign: 'not_found',
    tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 },
  },
  { route: 'GET /v1/customers/:id/usage/events', path: () => `/v1/customers/${SECRET_CUSTOMER}/usage/events?meter=gpu&from=2026-11-01T00:00:00Z`, owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/subscriptions', path: () => '/v1/subscriptions', body: () => ({ customerId: 'cus_matrix_sub', plan: 'pro' }), owner: 201, foreign: 'own_tenant' },
  { route: 'GET /v1/subscriptions/:id', path: (f) => `/v1/subscriptions/${f.subscriptionId}`, owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/subscriptions/:id/change', path: (f) => `/v1/subscriptions/${f.subscriptionId}/change`, body: () => ({ plan: 'team' }), owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/subscriptions/:id/cancel', path: (f) => `/v1/subscriptions/${f.subscriptionId}/cancel`, body: () => ({ at: '2026-11-28T00:00:00Z' }), owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/billing/run', path: () => '/v1/billing/run', body: () => ({ until: '2026-11-25T10:00:00Z' }), owner: 200, foreign: 'own_tenant' },
  { route: 'POST /v1/simulations', path: () => '/v1/simulations', body: () => ({ plan: 'team', from: '2026-11-01T00:00:00Z', to: '2026-11-25T00:00:00Z' }), owner: 200, foreign: 'own_tenant', scope: 'read' },
  { route: 'GET /v1/invoices', path: () => '/v1/invoices', owner: 200, foreign: 'empty_list' },
  { route: 'GET /v1/invoices?customerId', path: () => `/v1/invoices?customerId=${SECRET_CUSTOMER}`, owner: 200, foreign: 'empty_list' },
  { route: 'GET /v1/invoices/:id', path: (f) => `/v1/invoices/${f.invoiceId}`, owner: 200, foreign: 'not_found' },
  { route: 'GET /v1/invoices/:id.html', path: (f) => `/v1/invoices/${f.invoiceId}.html`, owner: 200, foreign: 'not_found' },
  { route: 'GET /v1/invoices/:id/lines/:lineId/events', path: (f) => `/v1/invoices/${f.invoiceId}/lines/li_1/events`, owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/invoices/:id/payments', path: (f) => `/v1/invoices/${f.invoiceId}/payments`, body: () => ({ amount: '1', method: 'wire' }), owner: 201, foreign: 'not_found' },
  {
    route: 'POST /v1/invoices/:id/payments (Idempotency-Key)', path: (f) => `/v1/invoices/${f.invoiceId}/payments`, headers: { 'idempotency-key': 'matrix-payment' },
    body: () => ({ amount: '1', method: 'wire' }), owner: 201, foreign: 'not_found',
  },
  { route: 'POST /v1/invoices/:id/void', path: (f) => `/v1/invoices/${f.invoiceId}/void`, body: () => ({ reason: 'matrix' }), owner: 200, foreign: 'not_found' },
  { route: 'GET /v1/customers/:id/balance', path: () => `/v1/customers/${SECRET_CUSTOMER}/balance`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  // The customer portal reads its customer's ledger and invoices with a token.
  { route: 'GET /v1/customers/:id/ledger', path: () => `/v1/customers/${SECRET_CUSTOMER}/ledger`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  { route: 'GET /v1/customers/:id/entitlements/:feature', path: () => `/v1/customers/${SECRET_CUSTOMER}/entitlements/exports`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  { route: 'POST /v1/customers/:id/grants', path: () => `/v1/customers/${SECRET_CUSTOMER}/grants`, body: () => ({ credits: '5' }), owner: 201, foreign: 'own_tenant' },
  { route: 'POST /v1/customers/:id/grants/:grantId/void', path: () => `/v1/customers/${SECRET_CUSTOMER}/grants/grant_A/void`, body: () => ({ reason: 'matrix' }), owner: 200, foreign: 'not_found' },
  { route: 'POST /v1/customers/:id/top-ups', path: () => `/v1/customers/${SECRET_CUSTOMER}/top-ups`, body: () => ({ credits: '5', amount: '1' }), owner: 201, foreign: 'own_tenant' },
  { route: 'PUT /v1/customers/:id/auto-top-up', path: () => `/v1/customers/${SECRET_CUSTOMER}/auto-top-up`, body: () => ({ threshold: '1', credits: '5' }), owner: 200, foreign: 'own_tenant' },
  { route: 'POST /v1/reservations', path: () => '/v1/reservations', body: () => ({ customerId: 'cus_matrix_res', credits: '1' }), owner: 201, foreign: 'own_tenant', scope: 'ingest' },
  { route: 'POST /v1/reservations/:id/release', path: () => '/v1/reservations/res_matrix_A/release', owner: 200, foreign: 'not_found', scope: 'ingest' },
  { route: 'POST /v1/quotes', path: () => '/v1/quotes', body: () => ({ customerId: SECRET_CUSTOMER, event: 'render.completed', properties: { gpuSeconds: 1 } }), owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 }, scope: 'read' },
  { route: 'GET /v1/customers/:id/invoices/upcoming', path: () => `/v1/customers/${SECRET_CUSTOMER}/invoices/upcoming`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  { route: 'GET /v1/customers/:id/invoices', path: () => `/v1/customers/${SECRET_CUSTOMER}/invoices`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  { route: 'GET /v1/customers/:id/invoices/:invoiceId', path: (f) => `/v1/customers/${SECRET_CUSTOMER}/invoices/${f.invoiceId}`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  { route: 'GET /v1/customers/:id/invoices/:invoiceId.html', path: (f) => `/v1/customers/${SECRET_CUSTOMER}/invoices/${f.invoiceId}.html`, owner: 200, foreign: 'not_found', tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 } },
  { route: 'GET /v1/customers/:id/subscriptions', path: () => `/v1/customers/${SECRET_CUSTOMER}/subscriptions`, owner: 200, foreign: 'not_found' },
  { route: 'GET /v1/customers', path: () => '/v1/customers?limit=1000', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/customers?search', path: () => '/v1/customers?search=secret', owner: 200, foreign: 'empty_list' },
  { route: 'GET /v1/config/versions', path: () => '/v1/config/versions', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/reports/revenue', path: () => '/v1/reports/revenue', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/reports/usage-revenue', path: () => '/v1/reports/usage-revenue?groupBy=customer', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/reports/credits', path: () => '/v1/reports/credits', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/reports/active-customers', path: () => '/v1/reports/active-customers', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/reports/ingest', path: () => '/v1/reports/ingest', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/exports/invoices.csv', path: () => '/v1/exports/invoices.csv', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/exports/invoice-lines.csv', path: () => '/v1/exports/invoice-lines.csv', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/exports/ledger.csv', path: () => '/v1/exports/ledger.csv', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/exports/ledger.csv?customerId', path: () => `/v1/exports/ledger.csv?customerId=${SECRET_CUSTOMER}`, owner: 200, foreign: 'not_found' },
  { route: 'GET /v1/exports/usage.csv', path: () => '/v1/exports/usage.csv?from=2026-11-01T00:00:00Z', owner: 200, foreign: 'own_tenant' },
  { route: 'GET /v1/webhooks/deliveries', path: () => '/v1/webhooks/deliveries', owner: 200, foreign: 'empty_list' },
  { route: 'POST /v1/webhooks/deliveries/:id/redeliver', path: (f) => `/v1/webhooks/deliveries/${f.deliveryId}/redeliver`, owner: 201, foreign: 'not_found' },
  { route: 'POST /v1/webhooks/endpoints', path: () => '/v1/webhooks/endpoints', body: () => ({ url: 'https://93.184.216.34/matrix', events: ['invoice.finalized'] }), owner: 201, foreign: 'own_tenant' },
  { route: 'GET /v1/webhooks/endpoints', path: () => '/v1/webhooks/endpoints', owner: 200, foreign: 'empty_list' },
  { route: 'DELETE /v1/webhooks/endpoints/:id', path: (f) => `/v1/webhooks/endpoints/${f.endpointId}`, owner: 200, foreign: 'not_found' },
  {
    route: 'GET /v1/customers/:id/stream', path: () => `/v1/customers/${SECRET_CUSTOMER}/stream?meters=gpu`, owner: 200, foreign: 'not_found',
    tokens: { 'read-only token': 200, 'ingest token': 200, 'other customer token': 404, 'other tenant token': 404 },
  },
  { route: 'POST /v1/customer-tokens', path: () => '/v1/customer-tokens', body: () => ({ customerId: 'cus_matrix_token', ingest: { events: ['render.completed'] } }), owner: 200, foreign: 'own_tenant', scope: 'ingest+read' },
  { route: 'POST /v1/customer-tokens (read-only)', path: () => '/v1/customer-tokens', body: () => ({ customerId: 'cus_matrix_token' }), owner: 200, foreign: 'own_tenant', scope: 'read' },
]

/** The scope an endpoint needs: as listed, else `read` for a GET (every read of tenant data), else `admin`. */
const scopeOf = (e: Endpoint): NonNullable<Endpoint['scope']> => e.scope ?? (e.route.startsWith('GET ') ? 'read' : 'admin')

type CredentialName = 'none' | 'basic scheme' | 'bearer without token' | 'bearer garbage' | 'unknown key' | 'revoked key' | 'expired key'
  | 'other tenant key' | 'test mode key' | 'valid key' | 'expired token' | LiveToken | ScopedKey

/** Each credential as request headers; `valid key` and `other tenant key` are allowed ones. */
const CREDENTIALS: { name: CredentialName; header: (f: Fixture) => Record<string, string> }[] = [
  { name: 'none', header: () => ({}) },
  { name: 'basic scheme', header: (f) => ({ authorization: `Basic ${Buffer.from(`${f.keys['valid key']}:`).toString('base64')}` }) },
  { name: 'bearer without token', header: () => ({ authorization: 'Bearer ' }) },
  { name: 'bearer garbage', header: (f) => ({ authorization: `Bearer ${f.keys['valid key']}x y` }) },
  { name: 'unknown key', header: (f) => ({ authorization: `Bearer ${f.keys['unknown key']}` }) },
  { name: 'revoked key', header: (f) => ({ authorization: `Bearer ${f.keys['revoked key']}` }) },
  { name: 'expired key', header: (f) => ({ authorization: `Bearer ${f.keys['expired key']}` }) },
  { name: 'other tenant key', header: (f) => ({ authorization: `Bearer ${f.keys['other tenant key']}` }) },
  { name: 'test mode key', header: (f) => ({ authorization: `Bearer ${f.keys['test mode key']}` }) },
  ...(Object.keys(SCOPED_KEYS) as ScopedKey[]).map((name) => ({ name, header: (f: Fixture) => ({ authorization: `Bearer ${f.keys[name]}` }) })),
  { name: 'valid key', header: (f) => ({ authorization: `Bearer ${f.keys['valid key']}` }) },
  { name: 'expired token', header: (f) => ({ authorization: `Bearer ${f.keys['expired token']}` }) },
  ...LIVE_TOKENS.map((name) => ({ name, header: (f: Fixture) => ({ authorization: `Bearer ${f.keys[name]}` }) })),
]

const SECRET_CUSTOMER = 'cus_secret_A'
const SECRET_MARKER = 'tenant-A-secret-marker'

/** An event with the id of A's event but other content: it must never touch A's copy. */
const probeEvent = (f: Fixture) => ({
  id: f.eventId,
  event: 'render.completed',
  customerId: 'cus_probe',
  timestamp: '2026-11-25T09:59:00.000Z', // within 5 minutes of now, so that tokens meet the customer rule
  properties: { probe: true },
})

/** A stream never ends: its text up to the first figure it sends (the snapshot). */
async function firstFigure(res: Response): Promise<string> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes('event: usage')) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  await reader.cancel()
  return text
}

async function fixture(): Promise<Fixture> {
  const t = await testApp()
  const config = {
    meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', description: SECRET_MARKER }],
    features: [{ key: 'exports', type: 'metered', meter: 'gpu', limit: '10' }],
    plans: [
      { key: 'pro', currency: 'USD', interval: 'month', features: ['exports'], charges: [{ key: 'base', model: 'flat', amount: '49' }, { key: 'gpu', meter: 'gpu', model: 'per_unit', unitAmount: '0.1' }] },
      { key: 'team', currency: 'USD', interval: 'month', charges: [{ key: 'gpu', meter: 'gpu', model: 'per_unit', unitAmount: '0.2' }] },
    ],
    // The finalized invoice below leaves a webhook delivery naming the secret customer.
    webhooks: [{ url: 'https://hooks.example/a', events: ['invoice.finalized'], secret: 'tenant-a-webhook-secret' }],
  }
  expect((await t.json('PUT', '/v1/config', config)).status).toBe(200)
  const subscription = await t.json('POST', '/v1/subscriptions', { customerId: SECRET_CUSTOMER, plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
  expect((await t.json('POST', '/v1/billing/run', { until: '2026-11-02T00:00:00Z' })).body.finalized).toHaveLength(1)
  const invoice = (await t.json('GET', '/v1/invoices')).body.data[0]
  expect((await t.json('POST', `/v1/customers/${SECRET_CUSTOMER}/grants`, { id: 'grant_A', credits: '100', source: SECRET_MARKER })).status).toBe(201)
  expect((await t.json('POST', '/v1/reservations', { id: 'res_matrix_A', customerId: SECRET_CUSTOMER, credits: '10' })).body.granted).toBe(true)
  const ownEvent = { id: 'evt-A-1', event: 'render.completed', customerId: SECRET_CUSTOMER, timestamp: '2026-11-25T09:00:00.000Z', properties: { marker: SECRET_MARKER } }
  expect((await t.json('POST', '/v1/events', { events: [ownEvent] })).body.accepted).toBe(1)
  const spare = await t.json('POST', '/v1/keys', { name: `spare ${SECRET_MARKER}` })
  const scoped = Object.fromEntries(await Promise.all((Object.entries(SCOPED_KEYS) as [ScopedKey, string[]][]).map(async ([name, scopes]) =>
    [name, (await t.json('POST', '/v1/keys', { name, scopes })).body.key as string]))) as Record<ScopedKey, string>
  // Expires at the first second after now; the clock moves past it below.
  const expiring = await t.json('POST', '/v1/keys', { name: 'expiring', expiresAt: '2026-11-25T10:00:01.000Z' })
  expect(expiring.status).toBe(201)
  // A's test mode: a tenant of its own, configured like A (so its requests succeed there).
  const testMode = await t.json('POST', '/v1/keys', { mode: 'test' })
  const testTenant = await t.store.testTenant(t.tenant.id, 0)
  await t.store.applyConfig(testTenant.id, { ...config, meters: [{ ...config.meters[0]!, description: 'test' }] } as never, null, 0)
  const endpoint = await t.json('POST', '/v1/webhooks/endpoints', { url: `https://93.184.216.34/${SECRET_MARKER}`, events: ['invoice.finalized'] })
  expect(endpoint.status).toBe(201)
  const [delivery] = (await t.json('GET', '/v1/webhooks/deliveries')).body.data
  expect(await t.store.webhooks.recordAttempt(delivery.id, { ok: true, status: 200, nowMs: t.clock.now() })).toBe('delivered')
  const revoked = await t.json('POST', '/v1/keys', { name: 'revoked' })
  expect((await t.json('DELETE', `/v1/keys/${revoked.body.id}`)).status).toBe(200)
  const other = await t.store.createTenant('other', 0)
  const otherKey = newSecretKey()
  await t.store.putApiKey({ id: 'key_other_tenant', tenantId: other.id, hash: hashKey(otherKey), name: null }, 0)
  // The other tenant has plans of the same names: its requests succeed, in its own tenant.
  await t.store.applyConfig(other.id, { ...config, meters: [{ ...config.meters[0]!, description: 'other' }] } as never, null, 0)
  // Tokens of tenant A for its secret customer (expired, read-only, ingest) and for another customer,
  // and one of tenant B for a customer with the same id as A's.
  const mint = async (body: unknown) => (await t.json('POST', '/v1/customer-tokens', body)).body.token as string
  const ingest = { events: ['render.completed'] }
  const expired = await mint({ customerId: SECRET_CUSTOMER, ttlSeconds: 1 })
  t.clock.advance(1000)
  const keys: Fixture['keys'] = {
    'none': undefined,
    'basic scheme': undefined,
    'bearer without token': undefined,
    'bearer garbage': undefined,
    'unknown key': newSecretKey(),
    'revoked key': revoked.body.key,
    'expired key': expiring.body.key,
    'other tenant key': otherKey,
    'test mode key': testMode.body.key,
    ...scoped,
    'valid key': t.key,
    'expired token': expired,
    'read-only token': await mint({ customerId: SECRET_CUSTOMER }),
    'ingest token': await mint({ customerId: SECRET_CUSTOMER, ingest }),
    'other customer token': await mint({ customerId: 'cus_other', ingest }),
    // Minted without creating the customer in B, so that B's key still finds no customer of that id.
    'other tenant token': await t.app.context.tokens.mint(
      { tenantId: other.id, customerId: SECRET_CUSTOMER, keyId: 'key_other_tenant', expiresAtMs: t.clock.now() + 900_000, ingestEvents: ingest.events }, t.clock.now()),
  }
  const f = { t, tenantA: t.tenant.id, eventId: ownEvent.id, spareKeyId: spare.body.id, subscriptionId: subscription.body.id, invoiceId: invoice.id, endpointId: endpoint.body.id, deliveryId: delivery.id, keys } as Fixture
  f.headers = Object.fromEntries(CREDENTIALS.map((c) => [c.name, c.header(f)])) as Fixture['headers']
  return f
}

/** Everything of tenant A that a request could read or change. */
function snapshotA(f: Fixture): string {
  const db = f.t.store.db
  return JSON.stringify({
    events: db.prepare('SELECT id, event, customer_id, ts, properties, source FROM events WHERE tenant_id = ? ORDER BY id').all(f.tenantA),
    keys: db.prepare('SELECT id, hash, revoked_at, scopes, expires_at FROM api_keys WHERE tenant_id = ? ORDER BY id').all(f.tenantA),
    customers: db.prepare('SELECT id, name, email, timezone, metadata FROM customers WHERE tenant_id = ? ORDER BY id').all(f.tenantA),
    corrections: db.prepare('SELECT id, status, current FROM events WHERE tenant_id = ? ORDER BY id').all(f.tenantA),
    versions: db.prepare('SELECT id, version, action, reason FROM event_versions WHERE tenant_id = ? ORDER BY id, version').all(f.tenantA),
    config: db.prepare('SELECT version, config FROM config_versions WHERE tenant_id = ? ORDER BY version').all(f.tenantA),
    rollups: db.prepare('SELECT meter, customer_id, bucket, count, sum FROM meter_rollups WHERE tenant_id = ? ORDER BY 1, 2, 3').all(f.tenantA),
    subscriptions: db.prepare('SELECT id, customer_id, start_at, end_at, billed_through FROM subscriptions WHERE tenant_id = ? ORDER BY id').all(f.tenantA),
    phases: db.prepare('SELECT subscription_id, start_at, plan FROM subscription_phases WHERE tenant_id = ? ORDER BY 1, 2').all(f.tenantA),
    invoices: db.prepare('SELECT id, number, status, total, amount_paid, credit_note FROM invoices WHERE tenant_id = ? ORDER BY id').all(f.tenantA),
    lines: db.prepare('SELECT invoice_id, position, amount FROM invoice_lines WHERE tenant_id = ? ORDER BY 1, 2').all(f.tenantA),
    credits: db.prepare('SELECT customer_id, state FROM credit_state WHERE tenant_id = ? ORDER BY 1').all(f.tenantA),
    entries: db.prepare('SELECT customer_id, n, credits FROM credit_entries WHERE tenant_id = ? ORDER BY 1, 2').all(f.tenantA),
    reservations: db.prepare('SELECT id, customer_id FROM credit_reservations WHERE tenant_id = ? ORDER BY 1').all(f.tenantA),
    autoTopUps: db.prepare('SELECT customer_id, threshold FROM auto_top_ups WHERE tenant_id = ? ORDER BY 1').all(f.tenantA),
    payments: db.prepare('SELECT invoice_id, id, amount FROM invoice_payments WHERE tenant_id = ? ORDER BY 1, 2').all(f.tenantA),
    webhooks: db.prepare('SELECT id, status, attempts, body FROM webhook_deliveries WHERE tenant_id = ? ORDER BY seq').all(f.tenantA),
    endpoints: db.prepare('SELECT id, url, events, secret FROM webhook_endpoints WHERE tenant_id = ? ORDER BY seq').all(f.tenantA),
    idempotency: db.prepare('SELECT route, key, state FROM idempotency_keys WHERE tenant_id = ? ORDER BY 1, 2').all(f.tenantA),
  })
}

let cells = 0
let unexpectedAllows = 0
afterAll(() => {
  console.log(`[chaos auth-matrix] ${ENDPOINTS.length} endpoints × ${CREDENTIALS.length} credentials = ${cells} cells checked; unexpected allows ${unexpectedAllows}`)
})

const MATRIX = ENDPOINTS.flatMap((e) => CREDENTIALS.map((c) => [e.route, c.name, e, c] as const))

describe('authorization matrix', () => {
  it.each(MATRIX)('%s × %s', async (_route, credential, endpoint) => {
    const f = await fixture()
    try {
      const before = snapshotA(f)
      const method = endpoint.route.split(' ')[0]!
      const body = endpoint.body?.(f)
      const res = await f.t.app.request(endpoint.path(f), {
        method,
        headers: { ...f.headers[credential], ...endpoint.headers, ...(body === undefined ? {} : { 'content-type': endpoint.contentType ?? 'application/json' }) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = res.headers.get('content-type')?.startsWith('text/event-stream') ? await firstFigure(res) : await res.text()
      const json = (() => {
        try {
          return JSON.parse(text) as Record<string, unknown> & { error?: { code: string }; data?: { id: string }[] }
        } catch {
          return undefined
        }
      })()
      const after = snapshotA(f)
      const leaks = text.includes(SECRET_MARKER) || text.includes(SECRET_CUSTOMER)
      const scopedKey = credential in SCOPED_KEYS ? (credential as ScopedKey) : undefined
      const scopeAllowed = scopedKey !== undefined && scopeAllows(scopedKey, scopeOf(endpoint))
      const allowed = credential === 'valid key' || endpoint.foreign === 'public' || scopeAllowed
      const foreignKey = credential === 'other tenant key' || credential === 'test mode key'
      const liveToken = LIVE_TOKENS.includes(credential as LiveToken) ? (credential as LiveToken) : undefined
      const ownToken = credential === 'read-only token' || credential === 'ingest token'

      // An unexpected allow is any of these; each is also asserted on its own below.
      const tolerated = foreignKey || (liveToken !== undefined && endpoint.tokens !== undefined)
      if (!allowed && (after !== before || (leaks && !ownToken) || (!tolerated && res.status < 400))) unexpectedAllows++

      if (endpoint.foreign === 'public') {
        expect(res.status).toBe(endpoint.owner)
        expect(leaks).toBe(false)
        expect(after).toBe(before)
      } else if (credential === 'valid key' || scopeAllowed) {
        expect(res.status, text).toBe(endpoint.owner)
      } else if (scopedKey !== undefined) {
        // A scope refusal names the scope needed, and nothing of A is read or changed.
        expect(res.status, text).toBe(403)
        expect(json?.error?.code).toBe('forbidden')
        const missing = scopeOf(endpoint).split('+').find((s) => !SCOPED_KEYS[scopedKey].includes(s))
        expect((json?.error as { message?: string } | undefined)?.message).toContain(`${missing} scope`)
        expect(leaks, text).toBe(false)
        expect(after, 'a key without the scope changed tenant A').toBe(before)
      } else if (foreignKey) {
        expect(leaks, text).toBe(false)
        expect(after, 'another tenant changed tenant A').toBe(before)
        if (endpoint.foreign === 'not_found') {
          expect(res.status, text).toBe(404)
          expect(json?.error?.code).toBe('not_found')
        } else if (endpoint.foreign === 'empty_list') {
          expect(res.status, text).toBe(200)
          expect(json?.data).toEqual([])
        } else {
          expect(res.status, text).toBe(endpoint.owner)
        }
      } else if (liveToken !== undefined) {
        expect(after, 'a customer token changed tenant A').toBe(before)
        if (!ownToken) expect(leaks, text).toBe(false)
        const status = endpoint.tokens?.[liveToken] ?? 403
        expect(res.status, text).toBe(status)
        if (status === 403) expect(json?.error?.code).toBe('forbidden')
        if (status === 404) expect(json?.error?.code).toBe('not_found')
        if (endpoint.route === 'POST /v1/events' && status === 200) {
          expect((json as unknown as { results: { code: string }[] }).results.map((r) => r.code)).toEqual(['forbidden_customer'])
        }
      } else {
        expect(res.status, text).toBe(401)
        expect(json?.error?.code).toBe('unauthorized')
        if (credential === 'expired key') expect((json?.error as { message?: string }).message).toBe('the key expired at 2026-11-25T10:00:01.000Z')
        expect(leaks).toBe(false)
        expect(after, 'a request without a valid key changed tenant A').toBe(before)
      }
      cells++
    } finally {
      await f.t.close()
    }
  })

  it('the valid key really can read and change what the others are refused (the matrix is not vacuous)', async () => {
    const f = await fixture()
    try {
      const before = snapshotA(f)
      const list = await f.t.app.request('/v1/events', { headers: f.headers['valid key'] })
      expect(await list.text()).toContain(SECRET_MARKER)
      const hooks = await f.t.app.request('/v1/webhooks/deliveries', { headers: f.headers['valid key'] })
      expect(await hooks.text()).toContain(SECRET_CUSTOMER)
      const revoke = await f.t.app.request(`/v1/keys/${f.spareKeyId}`, { method: 'DELETE', headers: f.headers['valid key'] })
      expect(revoke.status).toBe(200)
      expect(snapshotA(f)).not.toBe(before)
    } finally {
      await f.t.close()
    }
  })
})
