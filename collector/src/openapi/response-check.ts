// Holds answers to the document: each JSON answer is parsed with the schema its route declares for
// that status (the error body for errors), and one that does not fit becomes a 500 saying why.
// Route types check what a handler reads, not what it answers; this checks the rest. Tests turn it
// on (`createApp({ checkResponses: true })`), so every request of the suite is a check.
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi'
import { errorBody } from '@meterkit/protocol'
import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { z } from 'zod'
import type { AuthEnv } from '../middleware/auth.js'
import { describeIssues } from './route.js'
import { errorSchema } from './schemas.js'

function declaredSchema(spec: RouteConfig, status: number): z.ZodType | 'undeclared' | undefined {
  const answer = spec.responses[status] ?? spec.responses[`${String(status)[0]}XX`]
  if (answer === undefined || !('content' in answer)) return status >= 400 ? errorSchema : 'undeclared'
  const json = answer.content?.['application/json']
  return json !== undefined && 'schema' in json ? (json.schema as z.ZodType) : undefined
}

export function responseCheck(app: OpenAPIHono<AuthEnv>): MiddlewareHandler {
  let specs: Map<string, RouteConfig> | undefined
  return async (c, next) => {
    await next()
    if (!(c.res.headers.get('content-type') ?? '').startsWith('application/json')) return
    // Built at the first answer: every route is mounted by then.
    specs ??= new Map(app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [[`${d.route.method} ${d.route.path}`, d.route]] : [])))
    const handler = matchedRoutes(c).filter((r) => r.method !== 'ALL').at(-1)
    if (handler === undefined) return // not found: the app's 404 answer
    const spec = specs.get(`${handler.method.toLowerCase()} ${handler.path.replace(/:([^/]+)/g, '{$1}')}`)
    const where = `${handler.method} ${handler.path} answered ${c.res.status}`
    let problem: string | undefined
    if (spec === undefined) {
      problem = 'the route is not declared with route()'
    } else {
      const schema = declaredSchema(spec, c.res.status)
      if (schema === 'undeclared') problem = 'the status is not among its declared responses'
      else if (schema !== undefined) {
        const parsed = schema.safeParse(await c.res.clone().json())
        if (!parsed.success) problem = describeIssues(parsed.error)
      }
    }
    if (problem === undefined) return
    c.res = new Response(JSON.stringify(errorBody('internal', `${where}, which its OpenAPI declaration does not allow: ${problem}`)), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    })
  }
}
