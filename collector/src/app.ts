// The collector's HTTP app, built from injected dependencies so tests call app.request()
// without a socket. The collector is thin: HTTP in, engine calls, HTTP out.
import { type Clock, type IngestSink, ReportingService, type Storage, type Store, isStoreUnavailable, systemClock } from '@meterkit/engine'
import { DEFAULT_LATENESS_WINDOW_MS, errorBody } from '@meterkit/protocol'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Tracer } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { HttpError } from './http-error.js'
import { type AuthEnv, KeyResolver, authenticate } from './middleware/auth.js'
import { OriginPolicy, cors } from './middleware/cors.js'
import { CollectorMetrics } from './metrics.js'
import { openApiDocument, referenceRoutes, responseCheck } from './openapi/index.js'
import { createLogger, logFunction } from './logger.js'
import { accessLog } from './middleware/access-log.js'
import { billingRunTimer } from './middleware/billing-timer.js'
import { requestId, requestIdOf } from './middleware/request-id.js'
import { tracing } from './middleware/tracing.js'
import { configRoutes } from './routes/config.js'
import { creditRoutes } from './routes/credits.js'
import { customerTokenRoutes } from './routes/customer-tokens.js'
import { customerRoutes } from './routes/customers.js'
import { eventRoutes } from './routes/events.js'
import { healthRoutes } from './routes/health.js'
import { invoiceRoutes } from './routes/invoices.js'
import { keyRoutes } from './routes/keys.js'
import { subscriptionRoutes } from './routes/subscriptions.js'
import { webhookRoutes } from './routes/webhooks.js'
import { streamRoutes } from './routes/stream.js'
import { reportRoutes } from './routes/reports.js'
import { exportRoutes } from './routes/exports.js'
import { customerInvoiceRoutes } from './routes/customer-invoices.js'
import { consoleRoutes } from './console/index.js'
import { LiveHub, type LiveHubOptions, type LiveTimers, UsageSource } from './live/index.js'
import { BalanceSource } from './live/balance-source.js'
import { TenantConfigs } from './tenant-configs.js'
import { CustomerTokens } from './tokens.js'
import { WebhookUrlPolicy } from './webhook-url-policy.js'

export interface AppDeps {
  store: Store
  clock?: Clock
  metrics?: CollectorMetrics
  /** Oldest timestamp `/v1/events` takes, relative to now (default `P35D`). */
  latenessWindowMs?: number
  /** How long an API key lookup is cached, in ms (default 5000). */
  keyCacheTtlMs?: number
  /** Readiness: false while the server drains before shutdown. */
  isAccepting?: () => boolean
  /** Timers of the live streams (heartbeats, throttling); tests pass fake ones. */
  timers?: LiveTimers
  /** Least time between two live updates of one customer, in ms (default 250). */
  liveMinIntervalMs?: number
  log?: (level: 'error' | 'warn' | 'info', message: string, fields?: Record<string, unknown>) => void
  /** Structured logs, access logs included (default: warnings and errors on stderr). */
  logger?: Logger
  /** A server span per request when given (`--otel`). */
  tracer?: Tracer
  /** Where webhook endpoints may point (default: public addresses only). */
  webhookUrls?: WebhookUrlPolicy
  /** Answer 500 when a JSON answer does not fit its route's OpenAPI declaration (tests turn it on). */
  checkResponses?: boolean
  /** The store's transactions, for reports (default: the store's own `storage`, as every store has). */
  storage?: Storage
  /** Where `POST /v1/events` sends valid events (default: the store; queue mode: the event stream). */
  ingestSink?: IngestSink
  /** Readiness in place of the store's ping: why the collector cannot take ingest now, or undefined (queue mode). */
  readiness?: () => Promise<string | undefined>
  /** Tells other processes about this one's commits, for their live streams (queue mode). */
  liveRelay?: LiveHubOptions['relay']
}

export interface AppContext {
  store: Store
  /** Where ingest goes: the store, or the event stream in queue mode. */
  ingestSink: IngestSink
  /** Readiness in place of the store's ping (queue mode), or undefined. */
  readiness: (() => Promise<string | undefined>) | undefined
  clock: Clock
  metrics: CollectorMetrics
  latenessWindowMs: number
  keys: KeyResolver
  tokens: CustomerTokens
  /** Current configurations, cached briefly (forget a tenant's after applying one). */
  configs: TenantConfigs
  /** Live streams: the write paths call `committed` after each commit; `publish` sends other figures. */
  live: LiveHub
  isAccepting: () => boolean
  /** The last write the store refused (disk full, I/O error), until a write succeeds again. */
  writeHealth: WriteHealth
  webhookUrls: WebhookUrlPolicy
  /** Reports of the console; undefined for a store that exposes no transactions. */
  reporting: ReportingService | undefined
}

/**
 * Readiness follows write capacity: after the store refuses a write, /readyz answers 503 until
 * a write succeeds again (or, with no writes, for `retryAfterMs`), so a load balancer can send
 * new traffic to a collector that can commit it.
 */
export class WriteHealth {
  private failedAtMs: number | undefined
  private reason = ''
  constructor(private readonly clock: Clock, private readonly retryAfterMs = 10_000) {}
  failed(reason: string): void {
    this.failedAtMs = this.clock.now()
    this.reason = reason
  }
  succeeded(): void {
    this.failedAtMs = undefined
  }
  /** The reason writes are refused now, or undefined. */
  problem(): string | undefined {
    if (this.failedAtMs === undefined || this.clock.now() - this.failedAtMs >= this.retryAfterMs) return undefined
    return this.reason
  }
}

/** Real timers that never keep the process alive by themselves. */
const unrefTimers: LiveTimers = {
  setTimeout: (handler, ms) => {
    const t = setTimeout(handler, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

function reportingFor(deps: AppDeps): ReportingService | undefined {
  const storage = deps.storage ?? (deps.store as Partial<{ storage: Storage }>).storage
  return storage === undefined ? undefined : new ReportingService(storage)
}

export function createApp(deps: AppDeps) {
  const clock = deps.clock ?? systemClock
  const keys = new KeyResolver(deps.store, { ttlMs: deps.keyCacheTtlMs ?? 5000, now: () => clock.now() })
  const configs = new TenantConfigs(deps.store, clock)
  const ctx: AppContext = {
    store: deps.store,
    ingestSink: deps.ingestSink ?? deps.store,
    readiness: deps.readiness,
    clock,
    metrics: deps.metrics ?? new CollectorMetrics(),
    latenessWindowMs: deps.latenessWindowMs ?? DEFAULT_LATENESS_WINDOW_MS,
    keys,
    tokens: new CustomerTokens(deps.store, keys),
    configs,
    live: new LiveHub({ clock, timers: deps.timers ?? unrefTimers, minIntervalMs: deps.liveMinIntervalMs, relay: deps.liveRelay }),
    isAccepting: deps.isAccepting ?? (() => true),
    writeHealth: new WriteHealth(clock),
    webhookUrls: deps.webhookUrls ?? new WebhookUrlPolicy(),
    reporting: reportingFor(deps),
  }
  ctx.live.addSource(new UsageSource(deps.store, configs))
  ctx.live.addSource(new BalanceSource(deps.store, clock))
  ctx.metrics.liveStreams = () => ctx.live.streams
  const origins = new OriginPolicy(configs)
  const logger = deps.logger ?? createLogger({ level: 'warn' })
  const log = deps.log ?? logFunction(logger)

  const app = new OpenAPIHono<AuthEnv>()
  if (deps.checkResponses) app.use(responseCheck(app))

  app.use(requestId())
  if (deps.tracer !== undefined) app.use(tracing(deps.tracer))
  app.use(accessLog(logger))
  app.use(async (c, next) => {
    await next()
    ctx.metrics.requests.inc({ route: c.req.routePath, method: c.req.method, status: String(c.res.status) })
  })

  app.route('/', healthRoutes(ctx))
  app.route('/', referenceRoutes(() => openApiDocument(app)))
  app.use('/v1/*', async (_c, next) => {
    ctx.metrics.inFlight.inc()
    try {
      await next()
    } finally {
      ctx.metrics.inFlight.dec()
    }
  })
  // Preflights carry no credentials: CORS answers them before authentication.
  app.use('/v1/*', cors({ origins, tokens: ctx.tokens, now: () => clock.now() }))
  app.use('/v1/*', authenticate({ keys: ctx.keys, tokens: ctx.tokens, origins, clock }))
  app.route('/v1/events', eventRoutes(ctx))
  app.route('/v1/customer-tokens', customerTokenRoutes(ctx))
  app.route('/v1/customers', streamRoutes(ctx))
  app.route('/v1/keys', keyRoutes(ctx))
  app.route('/v1/config', configRoutes(ctx))
  app.route('/v1/customers', customerRoutes(ctx))
  app.route('/v1/subscriptions', subscriptionRoutes(ctx))
  app.use('/v1/billing/run', billingRunTimer(ctx.metrics))
  app.route('/v1', invoiceRoutes(ctx))
  app.route('/v1', creditRoutes(ctx))
  app.route('/v1/webhooks', webhookRoutes(ctx))
  app.route('/v1', reportRoutes(ctx))
  app.route('/v1/exports', exportRoutes(ctx))
  app.route('/v1/customers', customerInvoiceRoutes(ctx))
  app.route('/', consoleRoutes())

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404))
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      return c.json(errorBody(err.code, err.message, err.details), err.status as 400, err.headers)
    }
    if (isStoreUnavailable(err)) {
      ctx.writeHealth.failed((err as Error).message)
      // Disk full, I/O error, lock timeout: nothing was done, and a retry later may succeed.
      log('warn', 'store unavailable', { requestId: requestIdOf(c), method: c.req.method, path: new URL(c.req.url).pathname, error: String(err) })
      return c.json(errorBody('unavailable', `storage is unavailable: ${(err as Error).message}; retry later`), 503, { 'retry-after': '1' })
    }
    log('error', 'request failed', { requestId: requestIdOf(c), method: c.req.method, path: new URL(c.req.url).pathname, error: String(err?.stack ?? err) })
    return c.json(errorBody('internal', 'internal error; the request may be retried'), 500)
  })

  return Object.assign(app, { context: ctx })
}

export type CollectorApp = ReturnType<typeof createApp>
