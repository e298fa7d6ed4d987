// `pnpm bench`: runs every *.bench.mjs of this folder (or those named) as its own process, one
// after another, and gathers their figures into one report (Markdown and JSON) with the
// machine's description. Each figure with a baseline is also given as a ratio to it.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { cpus, freemem, totalmem, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = join(here, '../..')
const only = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  freeMemoryGiB: Math.round(freemem() / 2 ** 30),
  node: process.version,
  kernel: release(),
  date: new Date().toISOString(),
}

const results = []
for (const file of files) {
  console.log(`\n## ${file}`)
  const run = spawnSync(process.execPath, ['--expose-gc', join(here, file)], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = (run.stdout ?? '').split('\n')
  for (const line of lines) if (line && !line.startsWith('::result::')) console.log(line)
  const marker = lines.find((l) => l.startsWith('::result::'))
  if (run.status !== 0 || marker === undefined) {
    results.push({ name: file, error: `exited with ${run.status}` })
    continue
  }
  results.push(JSON.parse(marker.slice('::result::'.length)))
}

const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(3)) : String(v))
let md = `# Meterkit benchmarks\n\nMachine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.date}.\n`
md += 'Machines here are shared and noisy: compare ratios to the baseline measured in the same run.\n'
for (const r of results) {
  md += `\n## ${r.name}\n\n`
  if (r.error) {
    md += `failed: ${r.error}\n`
    continue
  }
  md += '| figure | value | unit | baseline | ratio | target |\n|---|---|---|---|---|---|\n'
  for (const f of r.figures) {
    md += `| ${f.name} | ${fmt(f.value)} | ${f.unit} | ${f.baseline ?? ''} | ${f.ratio === undefined ? '' : fmt(f.ratio)} | ${f.target ?? ''} |\n`
  }
}
mkdirSync(join(root, '.bench'), { recursive: true })
writeFileSync(join(root, '.bench/report.md'), md)
writeFileSync(join(root, '.bench/report.json'), JSON.stringify({ machine, results }, null, 2))
console.log(`\n${md}\nreport: .bench/report.md, .bench/report.json`)
process.exitCode = results.some((r) => r.error) ? 1 : 0
