// Routes are declared once, with @hono/zod-openapi: the zod schemas of a route's spec validate its
// path, query and body and describe them in /openapi.json, so the document cannot drift from what
// the collector checks. Bodies are read here, not by the library's validator, so the collector's
// limits (decoded size, gzip) and the contract's error body apply to them as to every other route.
import { OpenAPIHono, type RouteConfig, type RouteHandler } from '@hono/zod-openapi'
import { MAX_BATCH_BYTES } from '@meterkit/protocol'
import type { MiddlewareHandler } from 'hono'
import type { z } from 'zod'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { parseJson, readBodyText } from '../middleware/body.js'

/** `field: rule` for each problem; `body` when the problem is the whole value. */
export function describeIssues(error: z.ZodError, whole = 'body'): string {
  // One rule can fail twice (1000.5 is neither whole nor at most 1000): say it once.
  const lines = error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : whole}: ${issue.message}`)
  return [...new Set(lines)].join('; ')
}

/** A router whose routes are declared with `route()`; mount it with `app.route()` as any Hono app. */
export function api(): OpenAPIHono<AuthEnv> {
  return new OpenAPIHono<AuthEnv>({
    // Path and query parameters: 400 `invalid_request` naming the parameter.
    defaultHook: (result) => {
      if (!result.success) throw new HttpError('invalid_request', describeIssues(result.error, result.target))
    },
  })
}

/** What a handler gets: `c.req.valid('param' | 'query' | 'json')` typed from the spec's schemas. */
export type RouteContext<R extends RouteConfig> = Parameters<RouteHandler<R, AuthEnv>>[0]

export interface RouteOptions {
  /** Largest decoded body, in bytes (default: the 1 MiB of a batch). */
  bodyLimitBytes?: number
  /** The error for a body its schema refuses (default: 400 `invalid_body` listing each field and rule). */
  invalidBody?: (error: z.ZodError) => HttpError
}

// Bodies of these media types are JSON: text/plain is JSON sent as a CORS-simple request (sendBeacon).
const JSON_MEDIA_TYPES = ['application/json', 'text/plain']

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase()
}

/**
 * Reads and validates the JSON body of a spec that declares one. A body that is not `required`
 * may be empty: it is then read as `{}` (so the schema's defaults apply).
 */
function jsonBody(spec: RouteConfig, options: RouteOptions): MiddlewareHandler | undefined {
  const body = spec.request?.body
  if (body === undefined) return undefined
  const types = Object.keys(body.content).filter((t) => JSON_MEDIA_TYPES.includes(t))
  const declared = body.content['application/json']
  const schema = declared !== undefined && 'schema' in declared ? declared.schema as z.ZodType : undefined
  if (schema === undefined) return undefined
  const expected = types.length === 1 ? types[0] : `${types.slice(0, -1).join(', ')} or ${types.at(-1)}`
  const required = body.required === true
  return async (c, next) => {
    const checkType = () => {
      if (types.includes(mediaType(c.req.header('content-type')))) return
      const got = types.length > 1 ? ` (got "${c.req.header('content-type') ?? ''}")` : ''
      throw new HttpError('unsupported_media_type', `Content-Type must be ${expected}${got}`)
    }
    // A body that must be JSON is refused for its type before it is read; one that may be empty
    // is read first, since an empty body needs no type.
    if (required) checkType()
    const text = await readBodyText(c.req.raw, options.bodyLimitBytes ?? MAX_BATCH_BYTES)
    let value: unknown = {}
    if (required || text.trim() !== '') {
      checkType()
      value = parseJson(text)
    }
    const parsed = await schema.safeParseAsync(value)
    if (!parsed.success) {
      throw options.invalidBody?.(parsed.error) ?? new HttpError('invalid_body', describeIssues(parsed.error), parsed.error.issues)
    }
    c.req.addValidatedData('json', parsed.data as object)
    await next()
  }
}

/**
 * Declares a route on `app`: registers `spec` in the OpenAPI document and serves `handler` at its
 * path after `spec.middleware` and the validation of the spec's parameters and body.
 */
export function route<R extends RouteConfig>(
  app: OpenAPIHono<AuthEnv>,
  spec: R,
  handler: (c: RouteContext<R>) => Response | Promise<Response>,
  options: RouteOptions = {},
): void {
  const { middleware, ...declared } = spec
  app.openAPIRegistry.registerPath(declared)
  const bodyReader = jsonBody(spec, options)
  const { body: _body, ...request } = spec.request ?? {}
  const served = {
    ...declared,
    request,
    hide: true,
    middleware: [...(middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware]), ...(bodyReader ? [bodyReader] : [])],
  }
  app.openapi(served as RouteConfig, handler as unknown as RouteHandler<RouteConfig, AuthEnv>)
}
