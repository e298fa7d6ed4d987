// `meterkit keys create|list`: secret keys, printed once, through the API or straight in a database.
import { parseArgs } from 'node:util'
import { type KeyScope, isKeyScope, issueSecretKey, systemClock } from '@meterkit/engine'
import { formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import { DEFAULT_TENANT_NAME } from '../server.js'
import { DATABASE_OPTIONS, openStore } from './database.js'

const USAGE = `usage: meterkit keys create [--name NAME] [--scopes ingest,read,admin] [--expires-at T] [--test]
                            (--db FILE [--tenant ID] | --endpoint URL --api-key KEY)
       meterkit keys list [--endpoint URL --api-key KEY]
`

function scopesOf(text: string | undefined): KeyScope[] | undefined {
  if (text === undefined) return undefined
  const scopes = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const bad = scopes.find((s) => !isKeyScope(s))
  if (bad !== undefined || scopes.length === 0) throw new Error(`--scopes: "${bad ?? text}" is not a scope; use ingest, read and/or admin, comma-separated`)
  return scopes as KeyScope[]
}

export async function keysCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...DATABASE_OPTIONS,
      tenant: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      'expires-at': { type: 'string' },
      test: { type: 'boolean' },
      endpoint: { type: 'string' },
      'api-key': { type: 'string' },
    },
    allowPositionals: true,
  })
  const sub = positionals[0]
  if (sub !== 'create' && sub !== 'list') {
    process.stderr.write(USAGE)
    return 2
  }
  const endpoint = values.endpoint ?? process.env.MK_ENDPOINT ?? 'http://127.0.0.1:8790'
  const apiKey = values['api-key'] ?? process.env.MK_API_KEY
  if (sub === 'list') {
    if (apiKey === undefined) throw new Error('--api-key (or MK_API_KEY) is required')
    const res = await fetch(new URL('/v1/keys', endpoint), { headers: { authorization: `Bearer ${apiKey}` } })
    const body = (await res.json()) as { data?: Record<string, unknown>[]; error?: { message: string } }
    if (!res.ok) throw new Error(`the collector answered ${res.status}: ${body.error?.message ?? 'unknown error'}`)
    for (const k of body.data ?? []) {
      const state = k.revokedAt !== null ? `revoked ${k.revokedAt}` : k.expiresAt !== null ? `expires ${k.expiresAt}` : 'active'
      process.stdout.write(`${k.id}\t${(k.scopes as string[]).join(',')}\t${k.mode}\t${state}\t${k.name ?? ''}\n`)
    }
    return 0
  }

  const scopes = scopesOf(values.scopes)
  const expiresAtMs = values['expires-at'] === undefined ? undefined : parseRfc3339(values['expires-at'])
  if (values['expires-at'] !== undefined && expiresAtMs === undefined) throw new Error('--expires-at must be an RFC 3339 date-time such as 2027-01-01T00:00:00Z')
  const mode = values.test ? 'test' : 'live'
  const print = (id: string, key: string, expiresAt: string | null) => process.stdout.write(
    `key id ${id}${scopes ? ` (scopes ${scopes.join(', ')})` : ''}${expiresAt ? `, expires ${expiresAt}` : ''}\nsecret key (shown once, keep it): ${key}\n`)

  if (values.db !== undefined || values.store !== undefined) {
    const store = await openStore(values)
    try {
      const now = systemClock.now()
      if (expiresAtMs !== undefined && expiresAtMs <= now) throw new Error('--expires-at must be in the future')
      const tenantId = values.tenant === undefined ? (await store.defaultTenant(DEFAULT_TENANT_NAME, now)).id : Number(values.tenant)
      if ((await store.getTenant(tenantId)) === undefined) throw new Error(`no tenant ${values.tenant}`)
      const { key, record } = await issueSecretKey(store, tenantId, values.name ?? null, now, { scopes, expiresAtMs, mode })
      print(record.id, key, record.expiresAtMs === null ? null : formatTimestamp(record.expiresAtMs))
      return 0
    } finally {
      await store.close()
    }
  }
  if (apiKey === undefined) throw new Error('--api-key (or MK_API_KEY) is required, or --db to write the database directly')
  const res = await fetch(new URL('/v1/keys', endpoint), {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...(values.name === undefined ? {} : { name: values.name }),
      ...(scopes === undefined ? {} : { scopes }),
      ...(values['expires-at'] === undefined ? {} : { expiresAt: values['expires-at'] }),
      ...(values.test ? { mode: 'test' } : {}),
    }),
  })
  const body = (await res.json()) as { id?: string; key?: string; expiresAt?: string | null; error?: { message: string } }
  if (!res.ok) throw new Error(`the collector answered ${res.status}: ${body.error?.message ?? 'unknown error'}`)
  print(body.id!, body.key!, body.expiresAt ?? null)
  return 0
}
