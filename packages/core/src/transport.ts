// How the client talks to the collector: one POST /v1/events per call. Runtime packages supply
// the implementation (undici in Node, fetch on the edge, beacon in browsers). Failures are values.

export interface TransportRequest {
  /** The JSON body `{"events":[…]}`. */
  body: string
  eventCount: number
}

export type TransportResult =
  | { ok: true; status: number; retryAfter: string | undefined; body: string }
  | { ok: false; error: 'network' | 'timeout'; message: string }

/** A JSON call to another endpoint of the collector (reservations, quotes), path from the base URL. */
export interface ApiRequest {
  method: 'GET' | 'POST'
  path: string
  body?: string
}

export interface Transport {
  send(request: TransportRequest): Promise<TransportResult>
  /** Sends an ApiRequest; runtimes whose clients offer reservations implement it. */
  call?(request: ApiRequest): Promise<TransportResult>
  /** Stops using the network; requests still running settle as failures. */
  close?(): Promise<void>
}
