// Test support: an app over a real SQLite file in a temporary folder, with a tenant and a key.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock, SqliteStore, hashKey, newSecretKey, randomBase62 } from '@meterkit/engine'
import { createApp } from './app.js'

export const T0 = Date.parse('2026-11-25T10:00:00.000Z')

/** `tmpRoot`: where the temporary folder goes (default: the OS temp folder). */
export async function testApp({ tmpRoot, ...options }: { latenessWindowMs?: number; tmpRoot?: string } = {}) {
  const dir = mkdtempSync(join(tmpRoot ?? tmpdir(), 'meterkit-test-'))
  const dbPath = join(dir, 'meterkit.db')
  const store = new SqliteStore(dbPath)
  const clock = new ManualClock(T0)
  const tenant = await store.defaultTenant('default', T0)
  const key = newSecretKey()
  await store.putApiKey({ id: `key_${randomBase62(12)}`, tenantId: tenant.id, hash: hashKey(key), name: 'test' }, T0)
  const app = createApp({ store, clock, keyCacheTtlMs: 0, ...options, log: process.env.MK_TEST_LOG ? undefined : () => undefined })

  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, apiKey = key) =>
    app.request(path, {
      method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    })

  return {
    app,
    store,
    clock,
    key,
    tenant,
    dbPath,
    request,
    async json(method: string, path: string, body?: unknown, headers?: Record<string, string>, apiKey?: string) {
      const res = await request(method, path, body, headers, apiKey)
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: res.status, body: (await res.json()) as any }
    },
    async close() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type TestApp = Awaited<ReturnType<typeof testApp>>

let counter = 0
export function event(overrides: Record<string, unknown> = {}) {
  counter++
  return {
    id: `evt-${counter}`,
    event: 'render.completed',
    customerId: 'cus_42',
    timestamp: '2026-11-25T09:00:00.000Z',
    properties: { gpuSeconds: 12.5, resolution: '4k' },
    ...overrides,
  }
}
