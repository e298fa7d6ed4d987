// Child process for the SIGKILL test of durability 'track' (test/e2e/sdk-track-crash.test.ts):
// tracks about 10,000 events/s without ever calling flush(), as a busy worker does, and reports on stdout, with
// a synchronous write after every few events, how many of its track() calls have returned and
// when. The parent kills it with SIGKILL at a random instant. Mode `drain`: replay the buffer
// until it is empty, then shut down and print the stats.
import { readdirSync, writeSync } from 'node:fs'
import { Meterkit } from '../dist/index.js'

const [endpoint, apiKey, bufferDir, runId, windowMs, mode] = process.argv.slice(2)
const mk = new Meterkit({ endpoint, apiKey, bufferDir, durability: 'track', durabilityWindowMs: Number(windowMs), flushAt: 100, timeoutMs: 2000 })

if (mode === 'drain') {
  // A segment file is deleted only once every event in it is acknowledged.
  const segments = () => readdirSync(bufferDir).filter((n) => n.startsWith('segment-'))
  const deadline = Date.now() + 30_000
  while (segments().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  await mk.shutdown({ timeoutMs: 5000 })
  process.stdout.write(JSON.stringify({ ...mk.stats(), segmentsLeft: segments().length }) + '\n')
} else {
  writeSync(1, 'ready\n')
  for (let i = 0; ; ) {
    for (let k = 0; k < 10; k++, i++) {
      mk.track({ id: `run${runId}-${i}`, event: 'render.completed', customerId: `cus_${i % 7}`, properties: { gpuSeconds: i % 13, frame: i } })
    }
    // Every call before event i has returned by now (ms since the epoch, shared with the parent).
    writeSync(1, `${i} ${Date.now()}\n`)
    await new Promise((r) => setTimeout(r, 1)) // some work between events: about 10,000 events/s
  }
}
