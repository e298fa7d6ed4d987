// Parameters and bodies checked by the routes' schemas answer the contract's error body, naming
// the field and the rule, as the hand-written checks they replaced did.
import fc from 'fast-check'
import { MAX_LIST_LIMIT } from '@meterkit/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { HttpError } from '../http-error.js'
import { limitParam } from '../routes/events.js'
import { type TestApp, testApp } from '../testing.js'

let t: TestApp
beforeAll(async () => {
  t = await testApp()
  expect((await t.json('POST', '/v1/customers', { id: 'cus_1' })).status).toBe(201)
})
afterAll(() => t.close())

const LIMIT_RULE = `limit: must be a whole number from 1 to ${MAX_LIST_LIMIT}`

describe('query parameters', () => {
  test('limit is taken exactly when Number() of it is a whole number from 1 to 1000', async () => {
    const texts = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer({ min: -5, max: MAX_LIST_LIMIT + 5 }).map(String),
      fc.double({ noNaN: false }).map(String),
      fc.constantFrom('', ' 7 ', '0x10', '1e3', '1e400', 'Infinity', '1000.5', '08'),
    )
    await fc.assert(fc.asyncProperty(texts, async (text) => {
      const res = await t.json('GET', `/v1/events?limit=${encodeURIComponent(text)}`)
      const n = Number(text)
      if (Number.isInteger(n) && n >= 1 && n <= MAX_LIST_LIMIT) {
        expect(res.status).toBe(200)
      } else {
        expect(res.status).toBe(400)
        expect(res.body.error).toEqual({ code: 'invalid_request', message: LIMIT_RULE })
      }
    }), { numRuns: 150 })
  })

  test('limitParam, for handlers that read their query by hand, gives the same answers', () => {
    fc.assert(fc.property(fc.option(fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: MAX_LIST_LIMIT + 5 }).map(String)), { nil: undefined }), (text) => {
      const n = text === undefined ? 100 : Number(text)
      if (Number.isInteger(n) && n >= 1 && n <= MAX_LIST_LIMIT) expect(limitParam(text)).toBe(n)
      else expect(() => limitParam(text)).toThrow(new HttpError('invalid_request', LIMIT_RULE))
    }))
  })

  test('instants, enums and required parameters name the parameter and the rule', async () => {
    const cases: [string, string][] = [
      ['/v1/events?from=yesterday', 'from: must be an RFC 3339 date-time'],
      ['/v1/customers/cus_1/usage', 'meter: is required'],
      ['/v1/customers/cus_1/usage?meter=m&window=week', 'window: must be hour, day, month or none'],
      ['/v1/customers/cus_1/usage/events?meter=m&to=soon', 'to: must be an RFC 3339 date-time'],
      ['/v1/webhooks/deliveries?status=lost', 'status: must be one of pending, delivered, failed'],
      ['/v1/invoices?limit=0', LIMIT_RULE],
      ['/v1/customers/cus_1/ledger?limit=2000', LIMIT_RULE],
    ]
    for (const [path, message] of cases) {
      const res = await t.json('GET', path)
      expect(res.status, path).toBe(400)
      expect(res.body.error, path).toEqual({ code: 'invalid_request', message })
    }
  })

  test('two bad parameters are both named', async () => {
    const res = await t.json('GET', '/v1/events?limit=x&to=later')
    expect(res.status).toBe(400)
    expect(res.body.error.message.split('; ').sort()).toEqual([LIMIT_RULE, 'to: must be an RFC 3339 date-time'])
  })

  test('left-out parameters take their defaults and the request reaches the engine', async () => {
    const res = await t.json('GET', '/v1/customers/cus_1/usage?meter=none_such')
    // Past the schema: the meter is judged by the engine.
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain('none_such')
  })
})

describe('JSON bodies', () => {
  test('a refused body lists each field and rule, with the issues as details', async () => {
    const res = await t.json('POST', '/v1/customers', { id: '', email: 7 })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_body')
    expect(res.body.error.message).toMatch(/^id: .+; email: .+$/)
    expect(res.body.error.details.map((d: { path: string[] }) => d.path.join('.'))).toEqual(['id', 'email'])
  })

  test('a required body must be JSON', async () => {
    const plain = await t.json('POST', '/v1/customers', '{"id":"c"}', { 'content-type': 'text/plain' })
    expect(plain.status).toBe(415)
    expect(plain.body.error).toEqual({ code: 'unsupported_media_type', message: 'Content-Type must be application/json' })
    const empty = await t.json('POST', '/v1/customers', '', { 'content-type': 'application/json' })
    expect(empty.status).toBe(400)
    expect(empty.body.error.code).toBe('invalid_json')
  })

  test('an optional body may be left out, and is checked when given', async () => {
    const none = await t.json('POST', '/v1/billing/run')
    expect(none.status).toBe(200)
    const bad = await t.json('POST', '/v1/billing/run', { until: 'tomorrow' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toBe('until: must be an RFC 3339 date-time')
  })

  test('POST /v1/events keeps its envelope messages and takes text/plain', async () => {
    const notObject = await t.json('POST', '/v1/events', [1])
    expect(notObject.body.error).toEqual({ code: 'invalid_body', message: 'body: must be a JSON object { "events": [ … ] }' })
    const beacon = await t.json('POST', '/v1/events', JSON.stringify({ events: [] }), { 'content-type': 'text/plain;charset=UTF-8' })
    expect(beacon.body.error).toEqual({ code: 'invalid_body', message: 'events: must hold at least 1 event' })
    const html = await t.json('POST', '/v1/events', '{}', { 'content-type': 'text/html' })
    expect(html.status).toBe(415)
    expect(html.body.error.message).toBe('Content-Type must be application/json or text/plain (got "text/html")')
  })
})
