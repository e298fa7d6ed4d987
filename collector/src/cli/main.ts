// `meterkit <command>`: dispatches to the command modules.
import { applyCommand } from './apply.js'
import { backupCommand } from './backup.js'
import { billCommand } from './bill.js'
import { importCommand } from './import.js'
import { keysCommand } from './keys.js'
import { migrateCommand } from './migrate.js'
import { restoreCommand } from './restore.js'
import { simulateCommand } from './simulate.js'
import { verifyCommand } from './verify.js'
import { startCommand } from './start.js'
import { tenantsCommand } from './tenants.js'
import { tokenCommand } from './token.js'
import { workerCommand } from './worker.js'

const USAGE = `usage: meterkit <command> [options]

commands:
  start [--port 8790] [--host 127.0.0.1] [--store URL | --db FILE] [--config FILE] [--admin-key KEY]
                               [--billing-interval SECONDS (default 60, 0 = off)]
                               [--webhooks-allow-private-networks] [--webhooks-allow-networks CIDR,CIDR]
                               [--webhook-retention P30D]
                               [--log-level info (fatal error warn info debug trace silent)] [--otel]
                               [--queue nats://host:port [--queue-stream meterkit]
                                [--queue-partitions 16] [--queue-max-bytes 1073741824]]
                               run the collector (several may share one postgres:// store);
                               with --queue, batches are acknowledged once JetStream holds them
  worker --store postgres://… --queue nats://host:port [--queue-stream meterkit]
                               apply the queued events to the store (several workers share the
                               partitions and take over those of a worker that stops)
  apply FILE                   apply a configuration (meters, features, plans) to a running collector
  import FILE.ndjson           backfill events, with a progress bar
  bill [--until T]             close every billing period that ended by T (default now) and finalize invoices
  simulate --plan FILE --from T --to T [--customer ID ...]
                               re-rate past usage under a candidate plan: actual vs simulated per customer
  verify [--store URL]         rebuild every rollup from the raw events and report any difference
  backup FILE [--store URL]    copy the database while the collector runs (a consistent snapshot)
  restore FILE [--store URL]   put a backup in place of the database (the collector stopped);
                               the replaced database is kept beside it
  migrate [--check] [--store URL]
                               say what an upgrade does to the schema (--check), or do it
  tenants create NAME [--store URL]
                               add a tenant and print its first secret key
  keys create [--name NAME] [--scopes ingest,read,admin] [--expires-at T] [--test]
              (--store URL [--tenant ID] | --endpoint URL --api-key KEY)
                               create a secret key and print it once (admin unless --scopes;
                               --test: an mk_test_ key of the tenant's separate test data)
  keys list [--endpoint URL --api-key KEY]
                               list the tenant's keys (never their secrets)
  token CUSTOMER [--ttl SECONDS] [--ingest EVENT,EVENT]
                               mint a customer token for a browser (read-only unless --ingest)

A store is sqlite:PATH (the default, sqlite:./meterkit.db; --db PATH is the same) or
postgres://user@host:port/db; MK_STORE sets it for every command. MK_QUEUE and
MK_QUEUE_STREAM set --queue and --queue-stream.
Commands that talk to a running collector take --endpoint (MK_ENDPOINT, default
http://127.0.0.1:8790) and --api-key (MK_API_KEY).
`

/** Runs a command; resolves to an exit code, or undefined for a long-running server. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start':
      return startCommand(rest)
    case 'worker':
      return workerCommand(rest)
    case 'tenants':
      return tenantsCommand(rest)
    case 'keys':
      return keysCommand(rest)
    case 'token':
      return tokenCommand(rest)
    case 'apply':
      return applyCommand(rest)
    case 'import':
      return importCommand(rest)
    case 'bill':
      return billCommand(rest)
    case 'simulate':
      return simulateCommand(rest)
    case 'verify':
      return verifyCommand(rest)
    case 'backup':
      return backupCommand(rest)
    case 'restore':
      return restoreCommand(rest)
    case 'migrate':
      return migrateCommand(rest)
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
