// A TCP fault proxy on 127.0.0.1 between an HTTP/1.1 client and the collector, for chaos tests.
//
//   const proxy = await startFaultProxy({ upstream: collector.url, seed: 42,
//     rates: { dropRequest: 0.1, dropResponse: 0.1, duplicate: 0.1, delay: 0.1, reset: 0.1 } })
//   // point the client at proxy.url …
//   proxy.setUpstream(restarted.url)   // follow a restarted collector (same proxy.url for the client)
//   proxy.setUpstream(undefined)       // outage: every request is reset
//   proxy.stats                        // { requests, pass, dropRequest, dropResponse, duplicate, delay, reset }
//   await proxy.close()
//
// The proxy reads whole requests (Content-Length or chunked bodies) from each client connection,
// then, per request, applies one fault chosen by a PRNG:
//   pass          forward the request, return the reply
//   dropRequest   reset the client connection before anything reaches the collector
//   dropResponse  forward the request, wait for the whole reply (the collector applied the batch),
//                 swallow it and reset the client connection
//   duplicate     send the same request bytes twice upstream, at once, on two connections, and
//                 return one of the two replies
//   delay         wait 1..maxDelayMs before forwarding or before replying, then pass
//   reset         cut the connection mid-request (a prefix of the request reaches the collector,
//                 then both sides are reset) or mid-reply (a prefix of the reply reaches the client)
// The fault of a request depends only on the seed, the request line and body, and how many
// times that same request was seen before: a retried batch meets a fresh fault, and a run
// replays from its seed whatever order concurrent clients' requests arrive in.
// Each request goes upstream on its own connection with `Connection: close`, so a reply ends
// where the collector closes it; the client connection is closed after each reply.
// Only loopback upstreams are accepted (the machine's rule for fault tests).
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net'
import { Prng, fnv1a, pause } from './chaos.js'

export type Fault = 'pass' | 'dropRequest' | 'dropResponse' | 'duplicate' | 'delay' | 'reset'
export type FaultRates = Partial<Record<Exclude<Fault, 'pass'>, number>>

export interface FaultProxyOptions {
  /** Base URL of the collector, e.g. `http://127.0.0.1:8790`; must be a loopback address. */
  upstream: string | undefined
  seed: number
  /** Probability of each fault per request; the rest pass. The sum must be at most 1. */
  rates?: FaultRates
  /** Longest injected delay, in ms (default 40). */
  maxDelayMs?: number
  /** Longest wait for a reply from upstream before the client is reset, in ms (default 30 000). */
  upstreamTimeoutMs?: number
}

export type FaultStats = Record<Fault, number> & { requests: number; upstreamErrors: number }

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the address to give the client. */
  url: string
  port: number
  readonly stats: FaultStats
  setUpstream(url: string | undefined): void
  setRates(rates: FaultRates): void
  close(): Promise<void>
}

const FAULTS: Exclude<Fault, 'pass'>[] = ['dropRequest', 'dropResponse', 'duplicate', 'delay', 'reset']
const MAX_REQUEST_BYTES = 64 * 1024 * 1024
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

function parseUpstream(url: string | undefined): { host: string; port: number } | undefined {
  if (url === undefined) return undefined
  const u = new URL(url)
  if (!LOOPBACK.has(u.hostname)) throw new Error(`fault proxy: upstream must be a loopback address (got ${u.hostname})`)
  return { host: u.hostname === '[::1]' ? '::1' : u.hostname, port: Number(u.port || 80) }
}

function checkRates(rates: FaultRates): void {
  const sum = FAULTS.reduce((s, f) => s + (rates[f] ?? 0), 0)
  if (sum > 1 + 1e-9 || FAULTS.some((f) => (rates[f] ?? 0) < 0)) throw new Error('fault proxy: rates must be ≥ 0 and sum to at most 1')
}

/** The end of the chunked body starting at `from`, or -1 while incomplete. */
function chunkedEnd(buf: Buffer, from: number): number {
  let pos = from
  for (;;) {
    const eol = buf.indexOf('\r\n', pos)
    if (eol < 0) return -1
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0]!.trim(), 16)
    if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size')
    pos = eol + 2
    if (size === 0) {
      // Trailers, then an empty line.
      if (buf.length < pos + 2) return -1
      if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) return pos + 2
      const end = buf.indexOf('\r\n\r\n', pos)
      return end < 0 ? -1 : end + 4
    }
    if (buf.length < pos + size + 2) return -1
    pos += size + 2
  }
}

interface ParsedRequest {
  /** The request as sent upstream: head rewritten to `Connection: close`, body untouched. */
  bytes: Buffer
  /** Request line and body: what the fault decision is keyed on. */
  fingerprint: number
}

/** Parses one whole request off the front of `buf`, or answers undefined while incomplete. */
function parseRequest(buf: Buffer): ParsedRequest | undefined {
  const headEnd = buf.indexOf('\r\n\r\n')
  if (headEnd < 0) return undefined
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n')
  const requestLine = lines[0]!
  const headers = lines.slice(1)
  let length = 0
  let chunked = false
  const kept: string[] = []
  for (const line of headers) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'content-length') length = Number(value)
    if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) chunked = true
    if (name === 'connection' || name === 'keep-alive' || name === 'proxy-connection') continue
    kept.push(line)
  }
  const bodyStart = headEnd + 4
  let end: number
  if (chunked) {
    end = chunkedEnd(buf, bodyStart)
    if (end < 0) return undefined
  } else {
    if (!Number.isInteger(length) || length < 0) throw new Error('bad content-length')
    end = bodyStart + length
    if (buf.length < end) return undefined
  }
  const body = buf.subarray(bodyStart, end)
  const head = Buffer.from([requestLine, ...kept, 'connection: close', '', ''].join('\r\n'), 'latin1')
  return {
    bytes: Buffer.concat([head, body]),
    fingerprint: fnv1a(body, fnv1a(Buffer.from(requestLine, 'latin1'))),
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let upstream = parseUpstream(options.upstream)
  let rates: FaultRates = { ...options.rates }
  checkRates(rates)
  const maxDelayMs = options.maxDelayMs ?? 40
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 30_000
  const seen = new Map<number, number>()
  const sockets = new Set<Socket>()
  const stats: FaultStats = { requests: 0, upstreamErrors: 0, pass: 0, dropRequest: 0, dropResponse: 0, duplicate: 0, delay: 0, reset: 0 }

  const track = (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => undefined)
    return s
  }

  const reset = (s: Socket) => {
    if (!s.destroyed) s.resetAndDestroy()
  }

  /** Opens an upstream connection; rejects when there is no upstream or it refuses. */
  const open = () => new Promise<Socket>((resolve, reject) => {
    if (upstream === undefined) return reject(new Error('no upstream (outage)'))
    const s = track(connect(upstream.port, upstream.host))
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })

  /** Sends a whole request upstream and answers the whole reply (up to the upstream's close). */
  const exchange = async (bytes: Buffer): Promise<Buffer> => {
    const s = await open()
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = []
      const timer = setTimeout(() => {
        reset(s)
        reject(new Error('upstream timeout'))
      }, upstreamTimeoutMs)
      s.on('data', (c: Buffer) => chunks.push(c))
      s.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      s.once('end', () => {
        clearTimeout(timer)
        s.end()
        const reply = Buffer.concat(chunks)
        if (reply.length === 0) reject(new Error('upstream closed without a reply'))
        else resolve(reply)
      })
      s.write(bytes)
    })
  }

  /** Sends a prefix of a request upstream, then resets that connection. */
  const partial = async (bytes: Buffer, cut: number): Promise<void> => {
    const s = await open()
    await new Promise<void>((resolve) => s.write(bytes.subarray(0, cut), () => resolve()))
    reset(s)
  }

  const decide = (fingerprint: number): { fault: Fault; rng: Prng } => {
    const n = seen.get(fingerprint) ?? 0
    seen.set(fingerprint, n + 1)
    const rng = new Prng((options.seed ^ fingerprint ^ Math.imul(n + 1, 0x9e3779b9)) >>> 0)
    let x = rng.next()
    for (const f of FAULTS) {
      x -= rates[f] ?? 0
      if (x < 0) return { fault: f, rng }
    }
    return { fault: 'pass', rng }
  }

  const reply = (client: Socket, bytes: Buffer) => {
    if (!client.destroyed) client.end(bytes)
  }

  const handle = async (client: Socket, req: ParsedRequest): Promise<void> => {
    stats.requests++
    const { fault, rng } = decide(req.fingerprint)
    stats[fault]++
    try {
      switch (fault) {
        case 'pass':
          return reply(client, await exchange(req.bytes))
        case 'dropRequest':
          return reset(client)
        case 'dropResponse':
          await exchange(req.bytes)
          return reset(client)
        case 'duplicate': {
          const [a, b] = await Promise.allSettled([exchange(req.bytes), exchange(req.bytes)])
          const pick = rng.chance(0.5) ? [a, b] : [b, a]
          const ok = pick.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Buffer> | undefined
          if (ok === undefined) throw (a as PromiseRejectedResult).reason
          return reply(client, ok.value)
        }
        case 'delay': {
          const before = rng.chance(0.5)
          if (before) await pause(rng.int(1, maxDelayMs))
          const answer = await exchange(req.bytes)
          if (!before) await pause(rng.int(1, maxDelayMs))
          return reply(client, answer)
        }
        case 'reset': {
          if (rng.chance(0.5)) {
            await partial(req.bytes, rng.int(1, Math.max(1, req.bytes.length - 1)))
            return reset(client)
          }
          const answer = await exchange(req.bytes)
          if (!client.destroyed) client.write(answer.subarray(0, rng.int(0, answer.length - 1)))
          return reset(client)
        }
      }
    } catch {
      // The collector is down or cut us off: the client sees a reset, as it would without us.
      stats.upstreamErrors++
      reset(client)
    }
  }

  const server: Server = createServer((raw) => {
    const client = track(raw)
    let buf = Buffer.alloc(0)
    let busy = false
    const pump = async () => {
      if (busy) return
      let req: ParsedRequest | undefined
      try {
        req = parseRequest(buf)
      } catch {
        return reset(client)
      }
      if (req === undefined) return
      // One request per client connection: its reply ends the connection (or a fault resets it).
      busy = true
      buf = Buffer.alloc(0)
      await handle(client, req)
    }
    client.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c])
      if (buf.length > MAX_REQUEST_BYTES) return reset(client)
      void pump()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    setUpstream(url) {
      upstream = parseUpstream(url)
    },
    setRates(next) {
      checkRates(next)
      rates = { ...next }
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
    },
  }
}
