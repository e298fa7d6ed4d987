// A tiny static server for the preview page, standing in for your web app's backend: it serves
// the page and the browser SDK, and mints a customer token for the signed-in customer with the
// secret key, which never reaches the page (GET /token).
//   MK_API_KEY=mk_sec_… [MK_ENDPOINT=http://127.0.0.1:8790] [CUSTOMER=cus_42] [PORT=8791] node server.mjs
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url))
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' }

/** The SDK as ES modules for the page (from source in this repository; `@meterkit/browser`'s dist elsewhere). */
async function bundleSdk() {
  const out = await build({
    stdin: { contents: "export * from '@meterkit/browser'", resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
    bundle: true, format: 'esm', splitting: true, outdir: '/sdk', entryNames: 'meterkit', platform: 'browser',
    conditions: ['source'], minify: true, write: false, logLevel: 'silent',
  })
  return new Map(out.outputFiles.map((f) => [`/sdk/${f.path.split('/').pop()}`, f.text]))
}

/**
 * Starts the server; answers its URL and a close function. `customerId` is who the page is for
 * (a real app takes it from its session); the token may send `preview.opened` events.
 */
export async function startPreviewServer({ endpoint, apiKey, customerId = 'cus_42', port = 8791, host = '127.0.0.1' }) {
  const sdk = await bundleSdk()
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    try {
      if (path === '/token') {
        const minted = await fetch(`${endpoint}/v1/customer-tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ customerId, ttlSeconds: 900, ingest: { events: ['preview.opened'] } }),
        })
        const body = await minted.json()
        if (!minted.ok) throw new Error(body.error?.message ?? `the collector answered ${minted.status}`)
        return send(res, 200, '.json', JSON.stringify({ ...body, endpoint }))
      }
      if (sdk.has(path)) return send(res, 200, '.js', sdk.get(path))
      const file = path === '/' ? 'index.html' : path.slice(1)
      if (!/^[\w-]+\.(html|js|css)$/.test(file)) return send(res, 404, '.html', 'not found')
      return send(res, 200, file.slice(file.lastIndexOf('.')), await readFile(PUBLIC + file))
    } catch (err) {
      send(res, 502, '.json', JSON.stringify({ error: String(err.message ?? err) }))
    }
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  const url = `http://${host}:${server.address().port}`
  return { url, close: () => new Promise((resolve) => server.close(resolve)) }
}

function send(res, status, ext, body) {
  res.writeHead(status, { 'content-type': TYPES[ext] ?? 'application/json', 'cache-control': 'no-store' }).end(body)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const apiKey = process.env.MK_API_KEY
  if (!apiKey) throw new Error('MK_API_KEY is required (a secret key of the collector)')
  const { url } = await startPreviewServer({
    endpoint: process.env.MK_ENDPOINT ?? 'http://127.0.0.1:8790',
    apiKey,
    customerId: process.env.CUSTOMER ?? 'cus_42',
    port: Number(process.env.PORT ?? 8791),
  })
  console.log(`browser preview on ${url}`)
}
