// GET /console (the finance and operations console, secret-key sign-in) and GET /portal (one
// customer's page, with a customer token), served by the collector itself: a small HTML shell,
// and scripts and styles built at install into collector/dist/console-ui. Nothing comes from
// elsewhere: the Content-Security-Policy allows this origin only.
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { api, route } from '../openapi/index.js'
import { consoleAssets } from './assets.js'

const tags = ['Operations']
const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } })
const notBuilt = { description: 'The console is not built (an install builds it)', content: { 'text/plain': { schema: z.string() } } }

const CSP_BASE = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'"

function shell(title: string, entry: 'console' | 'portal'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/console/assets/${entry}.css"></head>
<body><div id="app"></div><script type="module" src="/console/assets/${entry}.js"></script></body></html>`
}

const NOT_BUILT = 'The console is not built: run `npx -y pnpm@12.4.2 build` (or install) in the repository.'

export function consoleRoutes() {
  const app = api()

  const page = (title: string, entry: 'console' | 'portal', frameAncestors: string) => (c: Context) => {
    if (!consoleAssets().has(`${entry}.js`)) return c.text(NOT_BUILT, 503)
    return c.html(shell(title, entry), 200, {
      'content-security-policy': `${CSP_BASE}; frame-ancestors ${frameAncestors}`,
      // The portal's URL holds a customer token: it must not leak through Referer.
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    })
  }

  route(app, {
    method: 'get', path: '/console', tags, summary: 'The console',
    description: 'The finance and operations console: sign in with a secret key (kept in the tab\'s sessionStorage only).',
    responses: { 200: html('The console page'), 503: notBuilt },
  }, page('Meterkit console', 'console', "'none'"))
  // Teams embed the portal in their product, so any site may frame it.
  route(app, {
    method: 'get', path: '/portal', tags, summary: 'The customer portal',
    description: 'One customer\'s usage, credits, renders and invoices, opened as /portal?token=mk_ct_… (a customer token); it may be framed by any site.',
    request: { query: z.object({ token: z.string().optional().openapi({ description: 'A customer token (mk_ct_…)' }) }) },
    responses: { 200: html('The portal page'), 503: notBuilt },
  }, page('Usage and billing', 'portal', '*'))

  route(app, {
    method: 'get', path: '/console/assets/{name}', tags, summary: 'A script or style of the console and the portal',
    request: { params: z.object({ name: z.string() }) },
    responses: {
      200: { description: 'The asset', content: { 'text/javascript': { schema: z.string() }, 'text/css': { schema: z.string() } } },
      404: { description: 'No such asset', content: { 'text/plain': { schema: z.string() } } },
    },
  }, (c) => {
    const asset = consoleAssets().get(c.req.valid('param').name)
    if (asset === undefined) return c.text('not found', 404)
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
  })

  return app
}
