// The edge function bundled for a neutral platform (any Node built-in fails the build) and run
// in a sandbox that has only Web-standard globals, with a waitUntil, against a collector app.
import { runInContext, createContext } from 'node:vm'
import { webcrypto } from 'node:crypto'
import { build } from 'esbuild'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { type TestApp, testApp } from '../../../collector/src/testing.js'
// @ts-expect-error: plain ESM helper shared with the benchmarks
import { noNodeBuiltins } from '../../../test/bench/lib/bundle.mjs'

async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [new URL('./worker.mjs', import.meta.url).pathname],
    bundle: true, write: false, platform: 'neutral', format: 'iife', globalName: 'worker', conditions: ['source'], logLevel: 'silent',
    plugins: [noNodeBuiltins],
  })
  return out.outputFiles[0]!.text
}

let t: TestApp
beforeEach(async () => {
  // The function stamps events with the real time: the collector runs on it too.
  t = await testApp({ time: { now: () => Date.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) } })
  await t.json('PUT', '/v1/config', { meters: [{ key: 'thumbnails', event: 'thumbnail.served', aggregation: 'count' }] })
})
afterEach(() => t.close())

it('runs with Web-standard globals only, answers at once, and meters the request through waitUntil', async () => {
  const code = await bundle()
  expect(code).not.toMatch(/\brequire\(|["']node:/)
  const sandbox = createContext({
    // What an edge runtime offers; deliberately no process, Buffer, require or setImmediate.
    fetch: (url: string, init: RequestInit) => t.app.request(url, init),
    Request, Response, Headers, URL, URLSearchParams, TextEncoder, TextDecoder, AbortController, AbortSignal,
    crypto: webcrypto, setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, structuredClone, console,
  })
  expect(runInContext('[typeof process, typeof Buffer, typeof require, typeof setImmediate].join()', sandbox)).toBe('undefined,undefined,undefined,undefined')
  runInContext(code, sandbox)
  const handler = runInContext('worker.default', sandbox) as { fetch(r: Request, env: object, ctx: object): Promise<Response> }

  const pending: Promise<unknown>[] = []
  const ctx = { waitUntil: (p: Promise<unknown>) => pending.push(p) }
  const env = { MK_ENDPOINT: 'http://collector.test', MK_API_KEY: t.key }
  const request = (headers: Record<string, string>) => new Request('https://edge.test/thumbnails/abc', { headers })
  const res = await handler.fetch(request({ 'x-customer-id': 'cus_42', 'x-request-id': 'req-1' }), env, ctx)
  expect(res.status).toBe(200)
  expect(pending).toHaveLength(1)
  await Promise.all(pending)
  // A retried request (same platform request id) counts once.
  await handler.fetch(request({ 'x-customer-id': 'cus_42', 'x-request-id': 'req-1' }), env, ctx)
  await Promise.all(pending)
  const stored = await t.json('GET', '/v1/events/req-1')
  expect(stored.body).toMatchObject({ event: 'thumbnail.served', customerId: 'cus_42', properties: { thumbnailId: 'abc' } })
  const usage = await t.json('GET', `/v1/customers/cus_42/usage?meter=thumbnails&to=${new Date(Date.now() + 60_000).toISOString()}`)
  expect(usage.body.value).toBe('1')
})

it('a Node built-in anywhere in the bundle fails the build', async () => {
  await expect(build({
    stdin: { contents: 'import { readFileSync } from "node:fs"; export const x = readFileSync', resolveDir: '.' },
    bundle: true, write: false, platform: 'neutral', plugins: [noNodeBuiltins], logLevel: 'silent',
  })).rejects.toThrow(/Node built-in "node:fs"/)
})
