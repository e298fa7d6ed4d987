// GET /console (the finance and operations console, secret-key sign-in) and GET /portal (one
// customer's page, with a customer token), served by the collector itself: a small HTML shell,
// and scripts and styles built at install into collector/dist/console-ui. Nothing comes from
// elsewhere: the Content-Security-Policy allows this origin only.
import { Hono } from 'hono'
import { consoleAssets } from './assets.js'

const CSP_BASE = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'"

function shell(title: string, entry: 'console' | 'portal'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/console/assets/${entry}.css"></head>
<body><div id="app"></div><script type="module" src="/console/assets/${entry}.js"></script></body></html>`
}

const NOT_BUILT = 'The console is not built: run `npx -y pnpm@12.4.2 build` (or install) in the repository.'

export function consoleRoutes() {
  const app = new Hono()

  const page = (title: string, entry: 'console' | 'portal', frameAncestors: string) => (c: import('hono').Context) => {
    if (!consoleAssets().has(`${entry}.js`)) return c.text(NOT_BUILT, 503)
    return c.html(shell(title, entry), 200, {
      'content-security-policy': `${CSP_BASE}; frame-ancestors ${frameAncestors}`,
      // The portal's URL holds a customer token: it must not leak through Referer.
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    })
  }

  app.get('/console', page('Meterkit console', 'console', "'none'"))
  // Teams embed the portal in their product, so any site may frame it.
  app.get('/portal', page('Usage and billing', 'portal', '*'))

  app.get('/console/assets/:name', (c) => {
    const asset = consoleAssets().get(c.req.param('name'))
    if (asset === undefined) return c.text('not found', 404)
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
  })

  return app
}
