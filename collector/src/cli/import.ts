// `meterkit import FILE.ndjson`: backfills events in parts, with a progress bar.
import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { API_OPTIONS, apiTarget, callApi } from './client.js'

const PART_BYTES = 8 * 1024 * 1024
const PART_LINES = 20_000

interface ImportAnswer {
  accepted: number
  duplicates: number
  conflicts: number
  rejected: number
  errors: { line: number; id: string | null; code: string; message: string }[]
}

function bar(done: number, total: number, counts: string): string {
  const width = 30
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${total === 0 ? 100 : Math.floor((done / total) * 100)}% ${counts}`
}

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: API_OPTIONS, allowPositionals: true })
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: meterkit import FILE.ndjson [--endpoint URL] [--api-key KEY]\n')
    return 2
  }
  const target = apiTarget(values)
  const total = statSync(file).size
  const tty = process.stderr.isTTY === true
  const sum = { accepted: 0, duplicates: 0, conflicts: 0, rejected: 0 }
  const errors: string[] = []
  let done = 0
  let part: string[] = []
  let partBytes = 0
  let firstLine = 1
  let lineNo = 0

  const send = async () => {
    if (part.length === 0) return
    const answer = (await callApi(target, 'POST', '/v1/events/import', `${part.join('\n')}\n`, 'application/x-ndjson')) as ImportAnswer
    sum.accepted += answer.accepted
    sum.duplicates += answer.duplicates
    sum.conflicts += answer.conflicts
    sum.rejected += answer.rejected
    // Lines are numbered per part by the collector: shift them to the file's numbering.
    for (const e of answer.errors) errors.push(`line ${e.line + firstLine - 1}: ${e.code}: ${e.message.replace(/^line \d+: /, '')}`)
    done += partBytes
    const counts = `${sum.accepted} accepted, ${sum.duplicates} duplicates, ${sum.conflicts} conflicts, ${sum.rejected} rejected`
    process.stderr.write(tty ? `\r${bar(done, total, counts)}` : `${bar(done, total, counts)}\n`)
    firstLine = lineNo + 1
    part = []
    partBytes = 0
  }

  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    lineNo++
    part.push(line)
    partBytes += Buffer.byteLength(line) + 1
    if (part.length >= PART_LINES || partBytes >= PART_BYTES) await send()
  }
  await send()
  if (tty) process.stderr.write('\n')
  process.stdout.write(`imported ${file}: ${sum.accepted} accepted, ${sum.duplicates} duplicates, ${sum.conflicts} conflicts, ${sum.rejected} rejected\n`)
  for (const e of errors.slice(0, 100)) process.stdout.write(`${e}\n`)
  if (errors.length > 100) process.stdout.write(`… and ${errors.length - 100} more\n`)
  return sum.rejected + sum.conflicts > 0 ? 1 : 0
}
