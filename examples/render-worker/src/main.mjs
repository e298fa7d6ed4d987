// Runs a few jobs against a collector, one of them failing once and re-run, then shuts down.
// MK_ENDPOINT (default http://127.0.0.1:8790), MK_API_KEY (required), MK_BUFFER_DIR (optional).
import { Meterkit, shutdownOnSignals } from '@meterkit/node'
import { runJob } from './worker.mjs'

const apiKey = process.env.MK_API_KEY
if (!apiKey) {
  console.error('set MK_API_KEY to a secret key (mk_sec_…) of your collector')
  process.exit(1)
}

const mk = new Meterkit({
  endpoint: process.env.MK_ENDPOINT ?? 'http://127.0.0.1:8790',
  apiKey,
  bufferDir: process.env.MK_BUFFER_DIR,
  onError: (err) => console.error(`meterkit: ${err.message}`),
  onDrop: (events, reason) => console.error(`meterkit: dropped ${events.length} events (${reason})`),
})
shutdownOnSignals(mk)

const submittedAt = Date.now()
const jobs = [
  { id: 'job-980', customerId: 'cus_42', frames: 240, resolution: '1080p', submittedAt },
  { id: 'job-981', customerId: 'cus_42', frames: 480, resolution: '4k', submittedAt },
  { id: 'job-982', customerId: 'cus_7', frames: 120, resolution: '4k', submittedAt },
]

for (const job of jobs) {
  try {
    await runJob(mk, job, { failAt: job.id === 'job-981' ? 'upscale' : undefined })
  } catch (err) {
    console.log(`${err.message}; re-running`)
    await runJob(mk, job) // ingest and render are sent again and answered `duplicate`
  }
}

await mk.shutdown({ timeoutMs: 10_000 })
console.log('stats', mk.stats())
