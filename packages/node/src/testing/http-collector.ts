// A small real HTTP server implementing POST /v1/events (dedup by id, per-event results, gzip),
// with fault injection: for SDK tests that need a socket, independent of the real collector.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { summarize, validateEvent, type EventResult, type WireEvent } from '@meterkit/protocol'

export type Fault =
  | { status: number; retryAfter?: string } // answer this status, apply nothing
  | 'lost' // apply the batch, then cut the connection without answering
  | 'reset' // cut the connection before applying anything
  | 'hang' // never answer (until the server closes)

export class HttpCollector {
  readonly stored = new Map<string, string>()
  /** Faults for the next requests, one each. */
  readonly faults: Fault[] = []
  /** When set, every request gets this fault. */
  down: Fault | undefined
  /** Applied to each request to pick a fault at random (chaos tests). */
  chaos: (() => Fault | undefined) | undefined
  requests = 0
  accepted = 0
  duplicates = 0
  conflicts = 0
  rejected = 0
  gzipped = 0
  private server: Server | undefined
  private readonly sockets = new Set<import('node:net').Socket>()
  url = ''

  constructor(private readonly apiKey = 'mk_sec_test_key_0123456789') {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res))
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this.url
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = undefined
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    if (req.method !== 'POST' || req.url !== '/v1/events') return this.error(res, 404, 'not_found')
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.error(res, 401, 'unauthorized')
    this.requests++
    const fault = this.faults.shift() ?? this.down ?? this.chaos?.()
    if (fault === 'reset') return void req.socket.destroy()
    if (fault === 'hang') return
    if (typeof fault === 'object') {
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter)
      return this.error(res, fault.status, fault.status === 503 ? 'unavailable' : `http_${fault.status}`)
    }
    let raw = Buffer.concat(chunks)
    if (req.headers['content-encoding'] === 'gzip') {
      raw = gunzipSync(raw)
      this.gzipped++
    }
    let events: unknown[]
    try {
      events = (JSON.parse(raw.toString('utf8')) as { events: unknown[] }).events
    } catch {
      return this.error(res, 400, 'invalid_json')
    }
    const body = JSON.stringify(summarize(events.map((e) => this.apply(e))))
    if (fault === 'lost') return void req.socket.destroy()
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  }

  private apply(raw: unknown): EventResult {
    const check = validateEvent(raw)
    if (!check.ok) {
      this.rejected++
      return { id: check.id, status: 'rejected', code: check.code, message: check.message }
    }
    const event = raw as WireEvent
    const json = JSON.stringify(event)
    const existing = this.stored.get(event.id)
    if (existing === undefined) {
      this.stored.set(event.id, json)
      this.accepted++
      return { id: event.id, status: 'accepted' }
    }
    if (existing === json) {
      this.duplicates++
      return { id: event.id, status: 'duplicate' }
    }
    this.conflicts++
    return { id: event.id, status: 'conflict', code: 'conflict', message: 'same id, different content' }
  }

  private error(res: ServerResponse, status: number, code: string): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message: code } }))
  }
}
