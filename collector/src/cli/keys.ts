// `meterkit keys create`: a new secret key, printed once, through the API or straight in a database.
import { parseArgs } from 'node:util'
import { SqliteStore, issueSecretKey, systemClock } from '@meterkit/engine'
import { DEFAULT_TENANT_NAME } from '../server.js'

export async function keysCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string' },
      tenant: { type: 'string' },
      name: { type: 'string' },
      endpoint: { type: 'string' },
      'api-key': { type: 'string' },
    },
    allowPositionals: true,
  })
  if (positionals[0] !== 'create') {
    process.stderr.write('usage: meterkit keys create [--name NAME] (--db FILE [--tenant ID] | --endpoint URL --api-key KEY)\n')
    return 2
  }
  if (values.db !== undefined) {
    const store = new SqliteStore(values.db)
    try {
      const now = systemClock.now()
      const tenantId = values.tenant === undefined ? (await store.defaultTenant(DEFAULT_TENANT_NAME, now)).id : Number(values.tenant)
      if ((await store.getTenant(tenantId)) === undefined) throw new Error(`no tenant ${values.tenant}`)
      const { key, record } = await issueSecretKey(store, tenantId, values.name ?? null, now)
      process.stdout.write(`key id ${record.id}\nsecret key (shown once, keep it): ${key}\n`)
      return 0
    } finally {
      await store.close()
    }
  }
  const endpoint = values.endpoint ?? process.env.MK_ENDPOINT ?? 'http://127.0.0.1:8790'
  const apiKey = values['api-key'] ?? process.env.MK_API_KEY
  if (apiKey === undefined) throw new Error('--api-key (or MK_API_KEY) is required, or --db to write the database directly')
  const res = await fetch(new URL('/v1/keys', endpoint), {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(values.name === undefined ? {} : { name: values.name }),
  })
  const body = (await res.json()) as { id?: string; key?: string; error?: { message: string } }
  if (!res.ok) throw new Error(`the collector answered ${res.status}: ${body.error?.message ?? 'unknown error'}`)
  process.stdout.write(`key id ${body.id}\nsecret key (shown once, keep it): ${body.key}\n`)
  return 0
}
