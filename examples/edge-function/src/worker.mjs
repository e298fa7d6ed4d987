// An edge function (Cloudflare Workers module syntax; the fetch handler is the same on Vercel
// and Netlify edge) that serves thumbnails and meters each request for the customer who made
// it. The client is made per request with that request's waitUntil: the event goes out after
// the response, and the response never waits for the collector.
import { Meterkit } from '@meterkit/edge'

/** Stands in for the real work: a small SVG per thumbnail id. */
function thumbnail(id) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><text x="8" y="40">${id}</text></svg>`
}

export default {
  async fetch(request, env, ctx) {
    const started = Date.now()
    const mk = new Meterkit({ endpoint: env.MK_ENDPOINT, apiKey: env.MK_API_KEY, waitUntil: (p) => ctx.waitUntil(p) })
    const url = new URL(request.url)
    const customerId = request.headers.get('x-customer-id')
    if (customerId === null) return new Response('x-customer-id is required', { status: 401 })
    const match = /^\/thumbnails\/([\w-]+)$/.exec(url.pathname)
    if (match === null) return new Response('not found', { status: 404 })
    const body = thumbnail(match[1])
    mk.track({
      event: 'thumbnail.served',
      customerId,
      // The platform's request id makes a retried delivery count once.
      id: request.headers.get('x-request-id') ?? undefined,
      properties: { thumbnailId: match[1], bytes: body.length, ms: Date.now() - started },
    })
    return new Response(body, { headers: { 'content-type': 'image/svg+xml' } })
  },
}
