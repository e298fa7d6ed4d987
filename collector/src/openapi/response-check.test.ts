import { z } from '@hono/zod-openapi'
import { describe, expect, test } from 'vitest'
import { HttpError } from '../http-error.js'
import { responseCheck } from './response-check.js'
import { api, route } from './route.js'
import { json } from './schemas.js'

function app(answer: () => Response) {
  const root = api()
  root.use(responseCheck(root))
  const sub = api()
  route(sub, { method: 'get', path: '/{id}', summary: 's', responses: { 200: json(z.object({ n: z.number() }), 'n') } }, answer)
  route(sub, { method: 'get', path: '/{id}/fail', summary: 'f', responses: { 200: json(z.object({}), 'never') } }, () => {
    throw new HttpError('not_found', 'no such thing')
  })
  root.route('/things', sub)
  root.onError((err, c) => (err instanceof HttpError ? c.json({ error: { code: err.code, message: err.message } }, err.status as 404) : c.json({}, 500)))
  return root
}

describe('responseCheck', () => {
  test('lets a declared answer through untouched', async () => {
    const res = await app(() => Response.json({ n: 1 })).request('/things/x')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ n: 1 })
  })

  test('turns an answer outside its schema into a 500 naming the field', async () => {
    const res = await app(() => Response.json({ n: '1' })).request('/things/x')
    expect(res.status).toBe(500)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('internal')
    expect(body.error.message).toContain('GET /things/:id answered 200')
    expect(body.error.message).toContain('n: ')
  })

  test('refuses a status the route does not declare', async () => {
    const res = await app(() => Response.json({ n: 1 }, { status: 201 })).request('/things/x')
    expect(res.status).toBe(500)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('not among its declared responses')
  })

  test('holds errors to the error body', async () => {
    const res = await app(() => Response.json({ n: 1 })).request('/things/x/fail')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no such thing' } })
    const odd = await app(() => Response.json({ oops: true }, { status: 400 })).request('/things/x')
    expect(odd.status).toBe(500)
  })
})
