import { readFileSync } from 'node:fs'
import { createConfig, lintFromString } from '@redocly/openapi-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { testApp } from '../testing.js'
import { openApiJson } from './document.js'

const COMMITTED = new URL('../../../docs/openapi.json', import.meta.url)

type Operation = { security: Record<string, string[]>[]; responses: Record<string, unknown>; 'x-required-scope'?: string; tags?: string[] }
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> } }

describe('the OpenAPI document', () => {
  let t: Awaited<ReturnType<typeof testApp>>
  let doc: Document
  beforeAll(async () => {
    t = await testApp()
    const res = await t.app.request('/openapi.json')
    expect(res.status).toBe(200)
    doc = (await res.json()) as Document
  })
  afterAll(() => t.close())

  test('docs/openapi.json is what the routes generate', () => {
    const committed = readFileSync(COMMITTED, 'utf8')
    // toBe would print both documents; the message says what to do.
    expect(committed === openApiJson(t.app), 'docs/openapi.json is out of date: run `pnpm openapi` and commit the file').toBe(true)
  })

  test('is a valid OpenAPI 3.1 document (Redocly\'s recommended rules)', async () => {
    const config = await createConfig({ extends: ['recommended'] })
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config })
    const found = problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`)
    // Health, metrics, this reference and the console page answer no 4xx: the only warning allowed, and only there.
    const allowed = (line: string) => /^warn operation-4xx-response #\/paths\/~1(healthz|readyz|metrics|openapi\.json|docs|console)/.test(line)
    expect(found.filter((line) => !allowed(line))).toEqual([])
  })

  test('every operation has its own operationId', () => {
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => (op as { operationId?: string }).operationId))
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test('is OpenAPI 3.1, served without a key', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['customerToken', 'customerTokenQuery', 'secretKey'])
    expect(doc.components.schemas.Error).toBeDefined()
  })

  test('holds every route the app serves', () => {
    const served = new Set(
      t.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, '{$1}')}`),
    )
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`)))
    const missing = [...served].filter((r) => !documented.has(r))
    expect(missing, 'routes served but not in the document: declare them with route() (collector/README.md, "How to add a route")').toEqual([])
    expect([...documented].filter((r) => !served.has(r))).toEqual([])
  })

  test('every operation has a tag, a summary and an error answer', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.tags?.length, `${method} ${path}: tags`).toBeGreaterThan(0)
        expect((op as { summary?: string }).summary, `${method} ${path}: summary`).toBeTruthy()
        if (path.startsWith('/v1/')) expect(op.responses['401'], `${method} ${path}: 401`).toBeDefined()
      }
    }
  })

  test('who may call an operation is read from the authentication tables', () => {
    const usage = doc.paths['/v1/customers/{id}/usage']!.get!
    expect(usage.security).toEqual([{ secretKey: [] }, { customerToken: [] }])
    expect(usage['x-required-scope']).toBe('read')
    const events = doc.paths['/v1/events']!.post!
    expect(events.security).toEqual([{ secretKey: [] }, { customerToken: [] }, { customerTokenQuery: [] }])
    expect(events['x-required-scope']).toBe('ingest')
    const config = doc.paths['/v1/config']!.put!
    expect(config.security).toEqual([{ secretKey: [] }])
    expect(config['x-required-scope']).toBe('admin')
    expect(doc.paths['/healthz']!.get!.security).toEqual([])
  })
})
