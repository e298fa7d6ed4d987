// `meterkit verify [--store URL | --db FILE]`: rebuilds every rollup from the raw events and reports any
// difference. Safe while a server runs on the same database (it reads one snapshot).
import { parseArgs } from 'node:util'
import { DATABASE_OPTIONS, openStore } from './database.js'

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS } })
  const store = await openStore(values)
  try {
    const started = performance.now()
    const report = await store.verify()
    const seconds = (performance.now() - started) / 1000
    process.stdout.write(`verified ${report.events} events against ${report.rollups} rollups in ${seconds.toFixed(2)} s\n`)
    if (report.unfolded > 0) process.stdout.write(`${report.unfolded} newer events are not folded yet (readers add them from the raw events)\n`)
    if (report.differences.length === 0) {
      process.stdout.write('no difference: the rollups agree with the raw events\n')
      return 0
    }
    for (const d of report.differences) process.stdout.write(`difference: ${d}\n`)
    return 1
  } finally {
    await store.close()
  }
}
