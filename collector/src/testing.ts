// Test support: an app over a real store, with a tenant and a key: SQLite in a temporary folder,
// or, with MK_TEST_STORE=postgres, a fresh PostgreSQL database (dropped at close).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AnyStore, type Clock, ManualClock, PostgresStore, SqliteStore, hashKey, newSecretKey, randomBase62 } from '@meterkit/engine'
import { createTestDatabase } from '@meterkit/engine/testing'
import { type AppDeps, createApp } from './app.js'
import type { LiveTimers } from './live/index.js'

export const T0 = Date.parse('2026-11-25T10:00:00.000Z')

/** `time`: one fake clock with timers, for the app's clock and its live streams' timers alike; `tmpRoot`: where the temporary folder goes. */
export async function testApp({ tmpRoot, ...options }: Pick<AppDeps, 'latenessWindowMs' | 'liveMinIntervalMs' | 'webhookUrls'> & { time?: Clock & LiveTimers; tmpRoot?: string } = {}) {
  const dir = mkdtempSync(join(tmpRoot ?? tmpdir(), 'meterkit-test-'))
  const dbPath = join(dir, 'meterkit.db')
  const database = process.env.MK_TEST_STORE === 'postgres' ? await createTestDatabase() : undefined
  // Folds run when a test asks (foldAll) or when a reader needs them, as on SQLite in one thread.
  const store: AnyStore = database === undefined ? new SqliteStore(dbPath) : await PostgresStore.open(database.url, { foldIntervalMs: 0 })
  const clock = new ManualClock(T0)
  const tenant = await store.defaultTenant('default', T0)
  const key = newSecretKey()
  await store.putApiKey({ id: `key_${randomBase62(12)}`, tenantId: tenant.id, hash: hashKey(key), name: 'test' }, T0)
  const { time, ...rest } = options
  const app = createApp({ store, clock: time ?? clock, timers: time, keyCacheTtlMs: 0, checkResponses: true, ...rest, log: process.env.MK_TEST_LOG ? undefined : () => undefined })

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
      app.context.live.close()
      await store.close()
      await database?.drop()
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

export interface SseFrame {
  id: string | undefined
  event: string
  data: unknown
}

/**
 * Reads a text/event-stream body in the background: `frames` grows as frames arrive (comments
 * and `retry:` lines are skipped); `next()` waits for the next unread one.
 */
export function sseReader(res: Response) {
  const frames: SseFrame[] = []
  const waiting: (() => void)[] = []
  let read = 0
  let ended = false
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }))
      if (done) break
      text += decoder.decode(value, { stream: true })
      let end: number
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end)
        text = text.slice(end + 2)
        const fields = new Map<string, string>()
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':')
          if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart())
        }
        if (fields.has('data')) frames.push({ id: fields.get('id'), event: fields.get('event') ?? 'message', data: JSON.parse(fields.get('data')!) })
      }
      for (const w of waiting.splice(0)) w()
    }
    ended = true
    for (const w of waiting.splice(0)) w()
  })()
  return {
    frames,
    get ended() {
      return ended
    },
    /** The next frame not yet returned; undefined when the stream ended first. */
    async next(): Promise<SseFrame | undefined> {
      while (read >= frames.length && !ended) await new Promise<void>((r) => waiting.push(r))
      return read < frames.length ? frames[read++] : undefined
    },
    /** Frames not yet returned by next(), marked read. */
    unread(): SseFrame[] {
      const out = frames.slice(read)
      read = frames.length
      return out
    },
    cancel: () => reader.cancel(),
  }
}
