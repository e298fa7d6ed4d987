// `meterkit start`: the collector server in this very process; SIGTERM/SIGINT drain it.
import { parseArgs } from 'node:util'
import { type RunningServer, startServer } from '../server.js'

export async function startCommand(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      'admin-key': { type: 'string' },
    },
    strict: true,
  })
  const port = Number(values.port ?? process.env.PORT ?? 8790)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number')
  // Handlers go in before the server announces itself: a signal in between would otherwise
  // meet the default action and kill the process without draining.
  const state: { server?: RunningServer; pending?: string } = {}
  const drain = (s: RunningServer) => {
    s.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  const stop = (signal: string) => {
    console.log(`meterkit: ${signal} received, draining`)
    if (state.server === undefined) state.pending = signal
    else drain(state.server)
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  const server = await startServer({
    port,
    host: values.host ?? process.env.HOST ?? '127.0.0.1',
    dbPath: values.db ?? process.env.MK_DB ?? './meterkit.db',
    adminKey: values['admin-key'] ?? process.env.MK_ADMIN_KEY,
  })
  state.server = server
  if (state.pending !== undefined) drain(server)
  return undefined
}
