// `meterkit token CUSTOMER [--ttl S] [--ingest a,b]`: mints a customer token through a running
// collector. The token alone goes to stdout (MK_TOKEN=$(meterkit token cus_42)); details to stderr.
import { parseArgs } from 'node:util'
import { API_OPTIONS, apiTarget, callApi } from './client.js'

const USAGE = 'usage: meterkit token CUSTOMER [--ttl SECONDS] [--ingest EVENT,EVENT] [--endpoint URL] [--api-key KEY]\n'

export async function tokenCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...API_OPTIONS, ttl: { type: 'string' }, ingest: { type: 'string' } },
    allowPositionals: true,
  })
  const customerId = positionals[0]
  if (customerId === undefined || positionals.length > 1) {
    process.stderr.write(USAGE)
    return 2
  }
  const body: Record<string, unknown> = { customerId }
  if (values.ttl !== undefined) {
    const ttl = Number(values.ttl)
    if (!Number.isInteger(ttl) || ttl < 1) throw new Error('--ttl must be a whole number of seconds (at most 3600)')
    body.ttlSeconds = ttl
  }
  if (values.ingest !== undefined) body.ingest = { events: values.ingest.split(',').map((s) => s.trim()).filter(Boolean) }
  const answer = (await callApi(apiTarget(values), 'POST', '/v1/customer-tokens', JSON.stringify(body))) as { token: string; expiresAt: string }
  process.stdout.write(`${answer.token}\n`)
  const scope = values.ingest === undefined ? 'read-only' : `may send ${(body.ingest as { events: string[] }).events.join(', ')}`
  process.stderr.write(`customer token for ${customerId}, ${scope}, expires ${answer.expiresAt}\n`)
  return 0
}
