// GET /openapi.json and GET /docs, the reference page: Redoc's standalone bundle, served from the
// installed `redoc` package so that the page works offline and never loads a script from a CDN.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { z } from '@hono/zod-openapi'
import { api, route } from './route.js'

const REDOC_BUNDLE = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js')

// The only address the bundle reaches out to: the sidebar's Redocly logo. An empty image instead,
// so the page asks nothing of any other host (the browser test fails if another one appears).
const REDOC_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg'
const EMPTY_IMAGE = 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E'

async function redocBundle(): Promise<string> {
  return (await readFile(REDOC_BUNDLE, 'utf8')).replaceAll(REDOC_LOGO, EMPTY_IMAGE)
}

// Relative URLs: the page also works when the collector is served under a path prefix.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Meterkit API reference</title>
  <link rel="icon" href="data:,">
  <style>body { margin: 0 }</style>
</head>
<body>
  <redoc spec-url="openapi.json" hide-hostname="true"></redoc>
  <script src="docs/redoc.standalone.js"></script>
</body>
</html>
`

const tags = ['Operations']

/** `document` builds the OpenAPI document; it is built on the first request and kept. */
export function referenceRoutes(document: () => object) {
  const app = api()
  let built: object | undefined
  let bundle: Promise<string> | undefined

  route(app, {
    method: 'get', path: '/openapi.json', tags, operationId: 'getOpenApiDocument', summary: 'This API as an OpenAPI 3.1 document',
    responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: z.object({}).loose() } } } },
  }, (c) => c.json((built ??= document()) as Record<string, unknown>))

  route(app, {
    method: 'get', path: '/docs', tags, operationId: 'getReferencePage', summary: 'The reference page of this API',
    responses: { 200: { description: 'An HTML page rendering /openapi.json', content: { 'text/html': { schema: z.string() } } } },
  }, (c) => c.html(PAGE))

  route(app, {
    method: 'get', path: '/docs/redoc.standalone.js', tags, operationId: 'getReferencePageScript', summary: 'The script of the reference page',
    responses: { 200: { description: 'Redoc\'s standalone bundle, from the installed package', content: { 'text/javascript': { schema: z.string() } } } },
  }, async (c) => {
    bundle ??= redocBundle()
    return c.body(await bundle, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' })
  })

  return app
}
