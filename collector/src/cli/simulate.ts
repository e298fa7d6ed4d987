// `meterkit simulate --plan FILE --from T --to T`: actual vs simulated usage charges per customer
// under a candidate plan (a plan object, or a configuration file whose first plan is taken).
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { API_OPTIONS, apiTarget, callApi } from './client.js'

interface Row {
  customerId: string
  currency: string
  actual: string
  simulated: string
  difference: string
}

export async function simulateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...API_OPTIONS, plan: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, customer: { type: 'string', multiple: true } },
  })
  if (values.plan === undefined || values.from === undefined || values.to === undefined) {
    process.stderr.write('usage: meterkit simulate --plan FILE --from T --to T [--customer ID ...]\n')
    return 2
  }
  const parsed = JSON.parse(readFileSync(values.plan, 'utf8')) as { plans?: unknown[] }
  const plan = Array.isArray(parsed.plans) ? parsed.plans[0] : parsed
  const body = JSON.stringify({ plan, from: values.from, to: values.to, ...(values.customer ? { customerIds: values.customer } : {}) })
  const answer = (await callApi(apiTarget(values), 'POST', '/v1/simulations', body)) as { data: Row[] }
  const header = ['customer', 'currency', 'actual', 'simulated', 'difference']
  const rows = answer.data.map((r) => [r.customerId, r.currency, r.actual, r.simulated, r.difference])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  for (const r of [header, ...rows]) process.stdout.write(`${r.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')}\n`)
  return 0
}
