import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, CLI, postEvents, startCollector, tempDir } from '../support/collector-process.js'

const run = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } })

describe('meterkit CLI', () => {
  it('start without a key creates one, prints it once, and it works', async () => {
    const dbPath = join(tempDir(), 'meterkit.db')
    const { spawn } = await import('node:child_process')
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--db', dbPath], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    const exited = new Promise((r) => child.once('exit', r))
    while (!/admin key .*: (mk_sec_\w+)/.test(out) || !/listening on (\S+)/.test(out)) await new Promise((r) => setTimeout(r, 20))
    const key = /admin key .*: (mk_sec_\w+)/.exec(out)![1]!
    const url = /listening on (\S+)/.exec(out)![1]!
    const res = await fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    child.kill('SIGTERM')
    await exited
    // A second start on the same database does not mint another key.
    const again = await startCollector(dbPath)
    again.child.kill('SIGTERM')
    await again.exited
    expect(again.output()).not.toContain('admin key')
  }, 30_000)

  it('tenants create works while a server runs on the same database; tenants are isolated', async () => {
    const dbPath = join(tempDir(), 'meterkit.db')
    const collector = await startCollector(dbPath)
    try {
      const out = run(['tenants', 'create', 'studio-b', '--db', dbPath])
      const key = /secret key .*: (mk_sec_\w+)/.exec(out)![1]!
      const event = { id: 'same-id', event: 'render.completed', customerId: 'c1', timestamp: new Date().toISOString() }
      const a = (await (await postEvents(collector.url, [event])).json()) as { accepted: number }
      const b = (await (await postEvents(collector.url, [event], key)).json()) as { accepted: number }
      expect([a.accepted, b.accepted]).toEqual([1, 1])
      const cross = await fetch(`${collector.url}/v1/events/same-id`, { headers: { authorization: `Bearer ${key}` } })
      expect(cross.status).toBe(200)
      const list = (await (await fetch(`${collector.url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: unknown[] }
      expect(list.data).toHaveLength(1)
    } finally {
      collector.child.kill('SIGTERM')
      await collector.exited
    }
  }, 30_000)

  it('keys create through the API prints a working key', async () => {
    const dbPath = join(tempDir(), 'meterkit.db')
    const collector = await startCollector(dbPath)
    try {
      const out = run(['keys', 'create', '--name', 'ci', '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      const key = /secret key .*: (mk_sec_\w+)/.exec(out)![1]!
      expect((await fetch(`${collector.url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    } finally {
      collector.child.kill('SIGTERM')
      await collector.exited
    }
  }, 30_000)

  it('rejects a malformed --admin-key with a clear message', () => {
    expect(() => run(['start', '--port', '0', '--db', join(tempDir(), 'x.db'), '--admin-key', 'mk_sec_short'])).toThrow(/--admin-key must be/)
  })
})
