// The runtime's own waitUntil, where it exposes one globally for the request being handled
// (Vercel's request context, Netlify's `Netlify.context`). Cloudflare Workers pass it to the
// handler as `ctx.waitUntil`: give it as the `waitUntil` option there.

export type WaitUntil = (promise: Promise<unknown>) => void

interface Holder {
  waitUntil?: unknown
}

const VERCEL_REQUEST_CONTEXT = Symbol.for('@vercel/request-context')

export function runtimeWaitUntil(): WaitUntil | undefined {
  const g = globalThis as unknown as Record<PropertyKey, { get?: () => Holder | undefined; context?: Holder } | undefined>
  const holder = g[VERCEL_REQUEST_CONTEXT]?.get?.() ?? g.Netlify?.context
  const waitUntil = holder?.waitUntil
  return typeof waitUntil === 'function' ? (promise) => (waitUntil as WaitUntil).call(holder, promise) : undefined
}
