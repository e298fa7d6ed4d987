// The collector process: the HTTP server over a store (the embedded SQLite file, or a
// PostgreSQL database that several collectors share), with a graceful shutdown (stop accepting,
// finish in-flight batches, close the store).
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { SqliteStore, hashKey, isValidSecretKey, issueSecretKey, openStore, parseStoreUrl, systemClock } from '@meterkit/engine'
import { configSchema } from '@meterkit/protocol'
import { createApp } from './app.js'
import { BillingScheduler } from './billing-scheduler.js'
import { WebhookDispatcher } from './webhook-dispatcher.js'
import { CollectorMetrics } from './metrics.js'
import { type LogLevel, createLogger, logFunction } from './logger.js'
import { sqliteGauges } from './sqlite-gauges.js'
import { type Tracing, startTracing } from './tracing.js'
import { COLLECTOR_VERSION } from './version.js'
import { RetentionSweeper } from './retention.js'
import { type WebhookNetworkOptions, WebhookUrlPolicy } from './webhook-url-policy.js'
import { CollectorQueue, type QueueOptions } from './queue/index.js'

export interface ServerOptions {
  port: number
  host: string
  /** The store's URL: `sqlite:PATH` or `postgres://user@host:port/db`. */
  store: string
  /** A configuration file applied to the default tenant at start (`--config`). */
  configPath?: string
  /** A secret key to accept for the default tenant (`--admin-key`). */
  adminKey?: string
  /** Drain time before in-flight requests are cut at shutdown, in ms. */
  shutdownTimeoutMs?: number
  /** How often the collector bills due periods, in ms (default 60000; 0 turns it off). */
  billingIntervalMs?: number
  /** How often due webhook deliveries are sent, in ms (default 1000; 0 turns delivery off). */
  webhookIntervalMs?: number
  /** Where webhooks may go: public addresses only unless private networks are allowed here. */
  webhookNetwork?: WebhookNetworkOptions
  /** How long delivered and failed webhook deliveries are kept, in ms (default 30 days). */
  webhookRetentionMs?: number
  /** Least level of the structured logs on stderr (default info: access logs included). */
  logLevel?: LogLevel
  /** Send OpenTelemetry traces over OTLP/HTTP (`--otel`). */
  otel?: boolean
  /** Queue mode (`--queue`): events go to a NATS JetStream stream, and workers store them. */
  queue?: QueueOptions
  print?: (line: string) => void
}

export interface RunningServer {
  port: number
  url: string
  /** A key created at this start, shown once; undefined when one was given or keys exist. */
  createdAdminKey: string | undefined
  close(): Promise<void>
}

export const DEFAULT_TENANT_NAME = 'default'

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => console.log(line))
  if (options.adminKey !== undefined && !isValidSecretKey(options.adminKey)) {
    throw new Error('--admin-key must be "mk_sec_" followed by characters of A-Za-z0-9_, 16–128 characters in all')
  }
  const storeUrl = parseStoreUrl(options.store)
  if (options.queue !== undefined && storeUrl.kind !== 'postgres') {
    throw new Error('--queue needs a postgres:// store (--store): the workers apply the queued events to the database the collectors read')
  }
  const queue = options.queue === undefined ? undefined : await CollectorQueue.open(options.queue)
  const store = await openStore(options.store, { sqlite: { writerThread: true } }).catch(async (err: unknown) => {
    await queue?.close()
    throw err
  })
  const now = systemClock.now()
  const tenant = await store.defaultTenant(DEFAULT_TENANT_NAME, now)

  let createdAdminKey: string | undefined
  if (options.adminKey !== undefined) {
    await store.putApiKey(
      { id: `key_admin_${hashKey(options.adminKey).toString('hex').slice(0, 12)}`, tenantId: tenant.id, hash: hashKey(options.adminKey), name: 'admin' },
      now,
    )
  } else if (!(await store.hasActiveKey(tenant.id))) {
    createdAdminKey = (await issueSecretKey(store, tenant.id, 'admin', now)).key
  }

  if (options.configPath !== undefined) {
    const parsed = configSchema.safeParse(JSON.parse(readFileSync(options.configPath, 'utf8')))
    if (!parsed.success) {
      await store.close()
      throw new Error(`${options.configPath}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`)
    }
    const applied = await store.applyConfig(tenant.id, parsed.data, null, now)
    print(`configuration ${options.configPath}: version ${applied.version}${applied.changed ? ' (applied)' : ' (unchanged)'}`)
  }

  let accepting = true
  const webhookUrls = new WebhookUrlPolicy(options.webhookNetwork)
  const logger = createLogger({ level: options.logLevel ?? 'info' })
  const log = logFunction(logger)
  const metrics = new CollectorMetrics({ processMetrics: true })
  metrics.storeGauges = store instanceof SqliteStore ? sqliteGauges(store) : store.gauges()
  const tracing: Tracing | undefined = options.otel ? await startTracing({ serviceVersion: COLLECTOR_VERSION }) : undefined
  const app = createApp({
    store, metrics, isAccepting: () => accepting, webhookUrls, logger, tracer: tracing?.tracer,
    ...(queue === undefined ? {} : { ingestSink: queue.publisher, readiness: () => queue.health.problem(), liveRelay: queue.relay }),
  })
  queue?.relay.subscribe((tenantId, changes) => app.context.live.received(tenantId, changes))
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s as Server))
    s.once('error', reject)
  })
  server.keepAliveTimeout = 65_000
  const scheduler = new BillingScheduler(store, systemClock, options.billingIntervalMs ?? 60_000, log, globalThis, (seconds) =>
    metrics.billingRunSeconds.observe({ trigger: 'schedule' }, seconds))
  scheduler.start()
  const webhooks = new WebhookDispatcher(store.webhooks, { clock: systemClock, intervalMs: options.webhookIntervalMs ?? 1000, log, urls: webhookUrls })
  webhooks.start()
  const retention = new RetentionSweeper(store, systemClock, { webhookRetentionMs: options.webhookRetentionMs, log })
  retention.start()
  const port = (server.address() as AddressInfo).port
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      accepting = false
      // Live streams never end by themselves: end them, or the drain would wait for the timeout.
      app.context.live.close()
      const force = setTimeout(() => {
        server.closeAllConnections()
      }, options.shutdownTimeoutMs ?? 10_000)
      force.unref()
      // Keep-alive connections that finish their request while draining are closed as they idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 50)
      server.close(() => {
        clearTimeout(force)
        clearInterval(sweep)
        void Promise.all([scheduler.stop(), webhooks.stop(), retention.stop(), queue?.close()])
          .then(() => store.close())
          .then(() => tracing?.shutdown())
          .then(resolve, resolve)
      })
      server.closeIdleConnections()
    })
    return closing
  }

  print(`meterkit collector listening on ${url} (store ${storeUrl.kind === 'sqlite' ? storeUrl.path : storeUrl.display}${queue === undefined ? '' : `, queue ${queue.describe()}`})`)
  if (createdAdminKey !== undefined) {
    print(`admin key (shown once, keep it): ${createdAdminKey}`)
  }
  return { port, url, createdAdminKey, close }
}
