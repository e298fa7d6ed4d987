import { readFileSync } from 'node:fs'
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

  test('is OpenAPI 3.1, served without a key', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['customerToken', 'customerTokenQuery', 'secretKey'])
    expect(doc.components.schemas.Error).toBeDefined()
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
})
