// `meterkit apply FILE`: validates and applies a configuration to a running collector.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { API_OPTIONS, apiTarget, callApi } from './client.js'

export async function applyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: API_OPTIONS, allowPositionals: true })
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: meterkit apply FILE [--endpoint URL] [--api-key KEY]\n')
    return 2
  }
  const answer = (await callApi(apiTarget(values), 'PUT', '/v1/config', readFileSync(file, 'utf8'))) as { version: number; changed: boolean }
  process.stdout.write(answer.changed ? `applied ${file}: configuration version ${answer.version}\n` : `${file} is already applied (version ${answer.version})\n`)
  return 0
}
