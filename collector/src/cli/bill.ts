// `meterkit bill --until T`: closes every period that ended by T (after the grace period).
import { parseArgs } from 'node:util'
import { API_OPTIONS, apiTarget, callApi } from './client.js'

export async function billCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...API_OPTIONS, until: { type: 'string' } } })
  const body = JSON.stringify(values.until === undefined ? {} : { until: values.until })
  const answer = (await callApi(apiTarget(values), 'POST', '/v1/billing/run', body)) as {
    until: string
    finalized: string[]
    drafts: string[]
    adjustments: number
  }
  process.stdout.write(
    `billed until ${answer.until}: ${answer.finalized.length} invoice(s) finalized, ${answer.drafts.length} draft(s) in their grace period, ` +
      `${answer.adjustments} adjustment line(s)\n`,
  )
  for (const id of answer.finalized) process.stdout.write(`  finalized ${id}\n`)
  return 0
}
