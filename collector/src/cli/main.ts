// `meterkit <command>`: dispatches to the command modules.
import { keysCommand } from './keys.js'
import { startCommand } from './start.js'
import { tenantsCommand } from './tenants.js'

const USAGE = `usage: meterkit <command> [options]

commands:
  start [--port 8790] [--host 127.0.0.1] [--db ./meterkit.db] [--admin-key KEY]
                               run the collector on the embedded SQLite store
  tenants create NAME [--db FILE]
                               add a tenant and print its first secret key
  keys create [--name NAME] (--db FILE [--tenant ID] | --endpoint URL --api-key KEY)
                               create a secret key and print it once
`

/** Runs a command; resolves to an exit code, or undefined for a long-running server. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start':
      return startCommand(rest)
    case 'tenants':
      return tenantsCommand(rest)
    case 'keys':
      return keysCommand(rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`meterkit: unknown command "${command}"\n\n${USAGE}`)
      return 2
  }
}
