// Child process for the crash tests (test/e2e/sdk-crash.test.ts): tracks rounds of events with
// bufferDir, writing each round's ids to a file only after its flush() resolved. The parent
// kills it with SIGKILL at random points. Mode `drain`: replay the buffer until empty, then exit.
import { appendFileSync, readdirSync } from 'node:fs'
import { Meterkit } from '../dist/index.js'

const [endpoint, apiKey, bufferDir, runId, rounds, out, mode] = process.argv.slice(2)
const mk = new Meterkit({ endpoint, apiKey, bufferDir, flushAt: 20, timeoutMs: 300, flushIntervalMs: 50 })

if (mode === 'drain') {
  // A segment file is deleted only once every event in it is acknowledged.
  const segments = () => readdirSync(bufferDir).filter((n) => n.startsWith('segment-'))
  const deadline = Date.now() + 30_000
  while (segments().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  await mk.shutdown({ timeoutMs: 5000 })
  process.stdout.write(JSON.stringify({ ...mk.stats(), segmentsLeft: segments().length }) + '\n')
} else {
  for (let r = 0; r < Number(rounds); r++) {
    const ids = []
    for (let i = 0; i < 37; i++) {
      ids.push(mk.track({ id: `run${runId}-${r}-${i}`, event: 'render.completed', customerId: 'cus_1', properties: { r, i } }))
    }
    await mk.flush()
    appendFileSync(out, ids.join('\n') + '\n')
  }
  await mk.shutdown({ timeoutMs: 5000 })
}
