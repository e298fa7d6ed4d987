// Live usage over SSE from a real collector process: an update follows a commit, and a SIGTERM
// ends open streams so that the drain does not wait for its timeout.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, ROOT, postEvents, startCollector, tempDir } from '../support/collector-process.js'
import { waitFor } from '../support/wait.js'

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
}, 180_000)

describe('live stream over a real socket', () => {
  it('sends the changed figure after a commit, and ends at SIGTERM', async () => {
    const collector = await startCollector(join(tempDir(), 'meterkit.db'))
    try {
      const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
      await fetch(`${collector.url}/v1/config`, { method: 'PUT', headers: auth, body: JSON.stringify({ meters: [{ key: 'renders', event: 'render.completed', aggregation: 'count' }] }) })
      await fetch(`${collector.url}/v1/customers`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'cus_42' }) })
      const res = await fetch(`${collector.url}/v1/customers/cus_42/stream`, { headers: auth })
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      let text = ''
      const reading = (async () => {
        const decoder = new TextDecoder()
        for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true })
        return 'ended'
      })()
      await waitFor(() => text.includes('"value":"0"'), 'the snapshot')
      const event = { id: 'e1', event: 'render.completed', customerId: 'cus_42', timestamp: new Date().toISOString() }
      expect((await postEvents(collector.url, [event])).status).toBe(200)
      await waitFor(() => text.includes('"value":"1"'), 'the update')
      collector.child.kill('SIGTERM')
      expect(await reading).toBe('ended')
      expect(await collector.exited).toBe(0)
    } finally {
      collector.child.kill('SIGKILL')
    }
  }, 30_000)
})
