import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
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

  it('keys create through the API prints a working key; token mints a customer token with it', async () => {
    const dbPath = join(tempDir(), 'meterkit.db')
    const collector = await startCollector(dbPath)
    try {
      const out = run(['keys', 'create', '--name', 'ci', '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      const key = /secret key .*: (mk_sec_\w+)/.exec(out)![1]!
      expect((await fetch(`${collector.url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)

      // `token` prints the customer token alone on stdout, ready for a shell variable.
      const token = run(['token', 'cus_42', '--ttl', '60', '--ingest', 'page.view,click', '--endpoint', collector.url], { MK_API_KEY: key }).trim()
      expect(token).toMatch(/^mk_ct_[\w-]+\.[\w-]{43}$/)
      const event = { id: 'cli-token-1', event: 'page.view', customerId: 'cus_42', timestamp: new Date().toISOString() }
      const sent = await fetch(`${collector.url}/v1/events?token=${token}`, { method: 'POST', body: JSON.stringify({ events: [event] }) })
      expect(((await sent.json()) as { accepted: number }).accepted).toBe(1)
      expect(() => run(['token', 'cus_42', '--ttl', '7200', '--endpoint', collector.url], { MK_API_KEY: key })).toThrow(/ttlSeconds: must be at most 3600/)
    } finally {
      collector.child.kill('SIGTERM')
      await collector.exited
    }
  }, 30_000)

  it('keys create makes scoped, expiring and test-mode keys; keys list shows them without secrets', async () => {
    const dbPath = join(tempDir(), 'meterkit.db')
    const collector = await startCollector(dbPath)
    try {
      // A worker's key: ingest only, expiring; and a test-mode key whose data stays apart.
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
      const workerOut = run(['keys', 'create', '--scopes', 'ingest', '--expires-at', expiresAt, '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      expect(workerOut).toContain('scopes ingest')
      const worker = /secret key .*: (mk_sec_\w+)/.exec(workerOut)![1]!
      const workerEvent = { id: 'cli-worker-1', event: 'render.completed', customerId: 'cus_42', timestamp: new Date().toISOString() }
      const posted = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${worker}`, 'content-type': 'application/json' }, body: JSON.stringify({ events: [workerEvent] }) })
      expect(posted.status).toBe(200)
      const read = await fetch(`${collector.url}/v1/events`, { headers: { authorization: `Bearer ${worker}` } })
      expect(read.status).toBe(403)
      expect(((await read.json()) as { error: { message: string } }).error.message).toContain('read scope')
      const testKey = /secret key .*: (mk_test_\w+)/.exec(run(['keys', 'create', '--test', '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY }))![1]!
      const testList = (await (await fetch(`${collector.url}/v1/events`, { headers: { authorization: `Bearer ${testKey}` } })).json()) as { data: unknown[] }
      expect(testList.data).toEqual([])
      const listed = run(['keys', 'list', '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      expect(listed).toMatch(/\tingest\tlive\texpires /)
      expect(listed).not.toContain(worker)
    } finally {
      collector.child.kill('SIGTERM')
      await collector.exited
    }
  }, 30_000)

  it('apply, import with a progress bar, usage, verify', async () => {
    const dir = tempDir()
    const dbPath = join(dir, 'meterkit.db')
    const collector = await startCollector(dbPath)
    const env = { MK_API_KEY: ADMIN_KEY, MK_ENDPOINT: collector.url }
    try {
      const configPath = join(dir, 'config.json')
      writeFileSync(configPath, JSON.stringify({ meters: [{ key: 'frames', event: 'render.completed', aggregation: 'sum', property: 'frames' }] }))
      expect(run(['apply', configPath], env)).toContain('configuration version 1')
      expect(run(['apply', configPath], env)).toContain('already applied (version 1)')
      const bad = join(dir, 'bad.json')
      writeFileSync(bad, JSON.stringify({ meters: [{ key: 'x', event: 'e', aggregation: 'sum' }] }))
      expect(() => run(['apply', bad], env)).toThrow(/meters\.0\.property: is required/)

      const lines = Array.from({ length: 25_000 }, (_, i) =>
        JSON.stringify({ id: `imp-${i}`, event: 'render.completed', customerId: 'cus_1', timestamp: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(), properties: { frames: 2 } }))
      lines.splice(10, 0, '{"id":"broken"')
      const file = join(dir, 'events.ndjson')
      writeFileSync(file, `${lines.join('\n')}\n`)
      const result = spawnSync(process.execPath, [CLI, 'import', file], { encoding: 'utf8', env: { ...process.env, ...env } })
      expect(result.stdout).toContain('25000 accepted, 0 duplicates, 0 conflicts, 1 rejected')
      expect(result.stdout).toMatch(/line 11: invalid_json/)
      expect(result.stderr).toContain('100%')
      expect(result.status).toBe(1)
      const usage = await (await fetch(`${collector.url}/v1/customers/cus_1/usage?meter=frames&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json() as { value: string }
      expect(usage.value).toBe('50000')
    } finally {
      collector.child.kill('SIGTERM')
      await collector.exited
    }
    expect(run(['verify', '--db', dbPath])).toContain('verified 25000 events')
  }, 60_000)

  it('start takes PORT, MK_DB and MK_ADMIN_KEY from the environment', async () => {
    const dbPath = join(tempDir(), 'env.db')
    const { spawn } = await import('node:child_process')
    const key = 'mk_sec_from_the_environment_01'
    const child = spawn(process.execPath, [CLI, 'start'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '0', MK_DB: dbPath, MK_ADMIN_KEY: key } })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    const exited = new Promise((r) => child.once('exit', r))
    while (!/listening on (\S+)/.test(out)) await new Promise((r) => setTimeout(r, 20))
    expect(out).toContain(`store ${dbPath}`)
    expect(out).not.toContain('admin key')
    const url = /listening on (\S+)/.exec(out)![1]!
    expect((await fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    child.kill('SIGTERM')
    await exited
  }, 30_000)

  it('rejects a malformed --admin-key with a clear message', () => {
    expect(() => run(['start', '--port', '0', '--db', join(tempDir(), 'x.db'), '--admin-key', 'mk_sec_short'])).toThrow(/--admin-key must be/)
  })
  it('bill closes due periods and simulate prints actual vs simulated per customer', async () => {
    const dir = tempDir()
    const dbPath = join(dir, 'meterkit.db')
    const collector = await startCollector(dbPath, ['--billing-interval', '0'])
    try {
      const plan = (key: string, unitAmount: string) => ({
        key, currency: 'USD', interval: 'month', anchor: 'calendar',
        charges: [{ key: 'base', model: 'flat', amount: '10' }, { key: 'gpu', meter: 'gpu', model: 'per_unit', unitAmount }],
      })
      const configFile = join(dir, 'config.json')
      writeFileSync(configFile, JSON.stringify({ meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }], plans: [plan('pro', '0.1')] }))
      run(['apply', configFile, '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      const sub = await fetch(`${collector.url}/v1/subscriptions`, {
        method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: 'cus_cli', plan: 'pro', startAt: '2026-10-01T00:00:00Z' }),
      })
      expect(sub.status).toBe(201)
      const now = Date.now()
      await postEvents(collector.url, [{ id: 'cli-1', event: 'render.completed', customerId: 'cus_cli', timestamp: new Date(now - 60_000).toISOString(), properties: { gpuSeconds: 30 } }])
      // Boundaries at Oct 1 (opening) and every month start up to now: at least two invoices.
      const billed = run(['bill', '--until', new Date(now).toISOString(), '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      const count = Number(/(\d+) invoice\(s\) finalized/.exec(billed)![1])
      expect(count).toBeGreaterThanOrEqual(2)
      expect(run(['bill', '--until', new Date(now).toISOString(), '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })).toMatch(/: 0 invoice\(s\) finalized/)

      const planFile = join(dir, 'candidate.json')
      writeFileSync(planFile, JSON.stringify(plan('pro_next', '0.25')))
      const from = new Date(now - 3_600_000).toISOString()
      const to = new Date(now + 3_600_000).toISOString()
      const table = run(['simulate', '--plan', planFile, '--from', from, '--to', to, '--endpoint', collector.url], { MK_API_KEY: ADMIN_KEY })
      // 30 GPU seconds: 3.00 at 0.1, 7.50 at 0.25.
      expect(table.split('\n')[1]).toMatch(/^cus_cli\s+USD\s+3\.00\s+7\.50\s+4\.50$/)
    } finally {
      collector.child.kill('SIGTERM')
      await collector.exited
    }
  }, 30_000)
})
