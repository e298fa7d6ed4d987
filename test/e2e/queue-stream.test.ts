// Live streams across processes in queue mode: a stream open on collector A shows usage ingested
// through collector B and stored by a worker, carried by the worker's notice on NATS.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, postgresAvailable } from '@meterkit/engine/testing'
import { deleteStream, natsAvailable, testQueue } from '../../collector/src/queue/testing.js'
import { Processes } from '../support/collector-control.js'
import { ADMIN_KEY, ROOT, postEvents, startCollector } from '../support/collector-process.js'
import { queueArgs, startWorker } from '../support/queue-process.js'
import { waitFor } from '../support/wait.js'

const postgres = await postgresAvailable()
const nats = await natsAvailable()
const available = postgres === true && nats === true ? true : [postgres, nats].filter((r) => r !== true).join('; ')

beforeAll(() => {
  if (available !== true) return
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
}, 180_000)

describe.runIf(available === true)('live stream across collectors (queue mode)', () => {
  it('a stream on collector A sends usage ingested through collector B once a worker stored it', async () => {
    const db = await createTestDatabase()
    const { servers, stream } = testQueue()
    const procs = new Processes()
    try {
      const a = procs.add(await startCollector(db.url, queueArgs(servers[0]!, stream)))
      const b = procs.add(await startCollector(db.url, queueArgs(servers[0]!, stream)))
      procs.add(await startWorker(db.url, servers[0]!, stream))
      const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
      await fetch(`${a.url}/v1/config`, { method: 'PUT', headers: auth, body: JSON.stringify({ meters: [{ key: 'renders', event: 'render.completed', aggregation: 'count' }] }) })
      await fetch(`${a.url}/v1/customers`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'cus_42' }) })
      const res = await fetch(`${a.url}/v1/customers/cus_42/stream`, { headers: auth })
      let text = ''
      void (async () => {
        const decoder = new TextDecoder()
        for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true })
      })().catch(() => undefined)
      await waitFor(() => text.includes('"value":"0"'), 'the snapshot on A')
      const answer = await postEvents(b.url, [{ id: 'x1', event: 'render.completed', customerId: 'cus_42', timestamp: new Date().toISOString() }])
      expect(((await answer.json()) as { queued: number }).queued).toBe(1)
      await waitFor(() => text.includes('"value":"1"'), 'the update on A', 15_000)
    } finally {
      await procs.killAll()
      await deleteStream(servers, stream)
      await db.drop()
    }
  }, 60_000)
})

if (available !== true) it.skip(available, () => {})
