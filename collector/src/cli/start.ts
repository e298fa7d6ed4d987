// `meterkit start`: the collector server in this very process; SIGTERM/SIGINT drain it.
import { parseArgs } from 'node:util'
import { startServer } from '../server.js'

export async function startCommand(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      config: { type: 'string' },
      'admin-key': { type: 'string' },
    },
    strict: true,
  })
  const port = Number(values.port ?? process.env.PORT ?? 8790)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number')
  const server = await startServer({
    port,
    host: values.host ?? process.env.HOST ?? '127.0.0.1',
    dbPath: values.db ?? process.env.MK_DB ?? './meterkit.db',
    adminKey: values['admin-key'] ?? process.env.MK_ADMIN_KEY,
    configPath: values.config ?? process.env.MK_CONFIG,
  })
  const stop = (signal: string) => {
    console.log(`meterkit: ${signal} received, draining`)
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return undefined
}
