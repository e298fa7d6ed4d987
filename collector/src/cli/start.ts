// `meterkit start`: the collector server in this very process; SIGTERM/SIGINT drain it.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { fixedDurationMs, parseDuration } from '@meterkit/protocol'
import { LOG_LEVELS, isLogLevel } from '../logger.js'
import { startServer } from '../server.js'
import { DATABASE_OPTIONS, storeUrl } from './database.js'
import { QUEUE_OPTIONS, queueFromArgs } from './queue.js'

export async function startCommand(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      ...DATABASE_OPTIONS,
      ...QUEUE_OPTIONS,
      config: { type: 'string' },
      'admin-key': { type: 'string' },
      'billing-interval': { type: 'string' },
      'webhooks-allow-private-networks': { type: 'boolean' },
      'webhooks-allow-networks': { type: 'string' },
      'webhook-retention': { type: 'string' },
      'log-level': { type: 'string' },
      otel: { type: 'boolean' },
    },
    strict: true,
  })
  const port = Number(values.port ?? process.env.PORT ?? 8790)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number')
  const billingSeconds = Number(values['billing-interval'] ?? process.env.MK_BILLING_INTERVAL ?? 60)
  if (!Number.isFinite(billingSeconds) || billingSeconds < 0) throw new Error('--billing-interval must be a number of seconds (0 turns scheduled billing off)')
  const allowPrivate = values['webhooks-allow-private-networks'] ?? ['1', 'true'].includes(process.env.MK_WEBHOOKS_ALLOW_PRIVATE_NETWORKS ?? '')
  const allowNetworks = (values['webhooks-allow-networks'] ?? process.env.MK_WEBHOOKS_ALLOW_NETWORKS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  const retentionText = values['webhook-retention'] ?? process.env.MK_WEBHOOK_RETENTION
  const parsedRetention = retentionText === undefined ? undefined : parseDuration(retentionText)
  const retentionMs = parsedRetention === undefined ? undefined : fixedDurationMs(parsedRetention)
  if (retentionText !== undefined && retentionMs === undefined) throw new Error('--webhook-retention must be an ISO 8601 duration in days or less, such as P30D')
  const logLevel = values['log-level'] ?? process.env.MK_LOG_LEVEL ?? 'info'
  if (!isLogLevel(logLevel)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
  const otel = values.otel ?? ['1', 'true'].includes(process.env.MK_OTEL ?? '')
  const url = storeUrl(values)
  const queue = queueFromArgs(values)
  // A fresh volume or folder: the database's folder is made, as the database itself would be.
  if (url.kind === 'sqlite') mkdirSync(dirname(url.path), { recursive: true })
  // Signals are handled from the first moment, so a SIGTERM right after start still drains.
  const running: { server?: Promise<Awaited<ReturnType<typeof startServer>>> } = {}
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`meterkit: ${signal} received, draining`)
    // A signal during start waits for the start to finish, then drains like any other.
    ;(running.server ?? Promise.reject(new Error('not started')))
      .then((s) => s.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  running.server = startServer({
    port,
    host: values.host ?? process.env.HOST ?? '127.0.0.1',
    store: url.kind === 'sqlite' ? `sqlite:${url.path}` : url.url,
    adminKey: values['admin-key'] ?? process.env.MK_ADMIN_KEY,
    configPath: values.config ?? process.env.MK_CONFIG,
    billingIntervalMs: billingSeconds * 1000,
    webhookNetwork: { allowPrivateNetworks: allowPrivate, allowNetworks },
    webhookRetentionMs: retentionMs,
    logLevel,
    otel,
    queue,
  })
  await running.server
  return undefined
}

