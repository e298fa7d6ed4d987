// `meterkit tenants create NAME [--store URL | --db FILE]`: works while a server runs on the same database.
import { parseArgs } from 'node:util'
import { issueSecretKey, systemClock } from '@meterkit/engine'
import { DATABASE_OPTIONS, openStore } from './database.js'

export async function tenantsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS }, allowPositionals: true })
  const [sub, name] = positionals
  if (sub !== 'create' || name === undefined || name.trim() === '') {
    process.stderr.write('usage: meterkit tenants create NAME [--store URL | --db FILE]\n')
    return 2
  }
  const store = await openStore(values)
  try {
    const now = systemClock.now()
    const tenant = await store.createTenant(name, now)
    const { key, record } = await issueSecretKey(store, tenant.id, 'first key', now)
    process.stdout.write(`tenant ${tenant.id} "${tenant.name}" created\nkey id ${record.id}\nsecret key (shown once, keep it): ${key}\n`)
    return 0
  } finally {
    await store.close()
  }
}
