// Test doubles for the client's capabilities, shared by every runtime package's tests
// (`@meterkit/core/testing`): a fake clock with timers, and an in-memory collector transport that
// implements the POST /v1/events contract and can be told to fail.
import { summarize, validateEvent, type EventResult, type WireEvent } from '@meterkit/protocol'
import type { BufferedEvent, EventBuffer } from './buffer.js'
import type { SerializedEvent } from './event.js'
import type { Clock, Timers } from './time.js'
import type { Transport, TransportRequest, TransportResult } from './transport.js'

interface FakeTimer {
  id: number
  at: number
  fn: () => void
}

/** A manual clock and timer queue; advance() fires due timers in order. */
export class FakeTime implements Clock, Timers {
  private nowMs: number
  private nextId = 1
  private pending: FakeTimer[] = []

  constructor(startMs = Date.UTC(2026, 10, 25, 10, 0, 0)) {
    this.nowMs = startMs
  }

  now(): number {
    return this.nowMs
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.nowMs + Math.max(0, ms), fn }
    this.pending.push(timer)
    return timer.id
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle)
  }

  /** Timers waiting to fire. */
  get timerCount(): number {
    return this.pending.length
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms
    await settle()
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id)
      const next = this.pending[0]
      if (next === undefined || next.at > end) break
      this.pending.shift()
      this.nowMs = Math.max(this.nowMs, next.at)
      next.fn()
      await settle()
    }
    this.nowMs = end
    await settle()
  }

  /** Advances in steps until `done()` holds; fails after `maxMs` of fake time. */
  async until(done: () => boolean, maxMs = 24 * 3600_000, stepMs = 100): Promise<void> {
    let elapsed = 0
    await settle()
    while (!done()) {
      if (elapsed >= maxMs) throw new Error(`condition not reached within ${maxMs} ms of fake time`)
      await this.advance(stepMs)
      elapsed += stepMs
    }
  }
}

/** Lets pending promise chains run (many microtask turns). */
export async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve()
}

/** What the fake collector does with one request. */
export type Behaviour =
  | { status: number; body?: string; retryAfter?: string } // answer this, apply nothing
  | { error: 'network' | 'timeout' } // fail before reaching the server
  | { lost: true } // apply the batch, then lose the answer
  | { hang: Promise<void> } // wait for the promise, then behave normally

/** An in-memory collector behind the Transport interface. */
export class FakeCollector implements Transport {
  /** Stored events by id (their JSON as received). */
  readonly stored = new Map<string, string>()
  /** Every request's events, in order. */
  readonly requests: WireEvent[][] = []
  /** Behaviours for the next requests, consumed one per request; then normal answers. */
  readonly script: Behaviour[] = []
  /** Event ids answered `rejected` (code `invalid_properties`). */
  readonly rejectIds = new Set<string>()
  /** Answer 413 to batches with more events than this. */
  maxEvents = Infinity
  /** Answers the status for every request while set. */
  down: number | 'network' | undefined = undefined
  /** Answer as a collector in queue mode does: `queued` for every valid event, new or not. */
  queueMode = false

  async send(request: TransportRequest): Promise<TransportResult> {
    const { events } = JSON.parse(request.body) as { events: WireEvent[] }
    this.requests.push(events)
    let behaviour = this.script.shift()
    if (behaviour !== undefined && 'hang' in behaviour) {
      await behaviour.hang
      behaviour = undefined
    }
    if (this.down === 'network') return { ok: false, error: 'network', message: 'connect ECONNREFUSED' }
    if (this.down !== undefined) return { ok: true, status: this.down, retryAfter: undefined, body: errorJson('unavailable') }
    if (behaviour !== undefined && 'error' in behaviour) return { ok: false, error: behaviour.error, message: behaviour.error }
    if (behaviour !== undefined && 'status' in behaviour) {
      return { ok: true, status: behaviour.status, retryAfter: behaviour.retryAfter, body: behaviour.body ?? errorJson(`http_${behaviour.status}`) }
    }
    if (events.length > this.maxEvents) return { ok: true, status: 413, retryAfter: undefined, body: errorJson('payload_too_large') }
    const body = JSON.stringify(summarize(events.map((e) => this.apply(e))))
    if (behaviour !== undefined && 'lost' in behaviour) return { ok: false, error: 'network', message: 'socket hang up' }
    return { ok: true, status: 200, retryAfter: undefined, body }
  }

  private apply(event: WireEvent): EventResult {
    const check = validateEvent(event)
    if (!check.ok) return { id: check.id, status: 'rejected', code: check.code, message: check.message }
    if (this.rejectIds.has(event.id)) {
      return { id: event.id, status: 'rejected', code: 'invalid_properties', message: 'rejected by test' }
    }
    const json = JSON.stringify(event)
    const existing = this.stored.get(event.id)
    if (this.queueMode) {
      if (existing === undefined) this.stored.set(event.id, json)
      return { id: event.id, status: 'queued' }
    }
    if (existing === undefined) {
      this.stored.set(event.id, json)
      return { id: event.id, status: 'accepted' }
    }
    return existing === json
      ? { id: event.id, status: 'duplicate' }
      : { id: event.id, status: 'conflict', code: 'conflict', message: 'same id, different content' }
  }
}

function errorJson(code: string): string {
  return JSON.stringify({ error: { code, message: code } })
}

/** An EventBuffer in memory (no durability): for testing the client's buffer path. */
export class MemoryBuffer implements EventBuffer {
  private readonly held: BufferedEvent[] = []
  private cursor = 0
  private acked = new Set<BufferedEvent>()
  appended = 0
  /** Refuse appends past this many events held. */
  capEvents = Infinity
  /** Make the next append fail. */
  failNextAppend = false

  get size(): number {
    return this.held.length - this.acked.size
  }

  async append(events: readonly SerializedEvent[]): Promise<{ refused: SerializedEvent[] }> {
    await settle(2)
    if (this.failNextAppend) {
      this.failNextAppend = false
      throw new Error('disk full')
    }
    const refused: SerializedEvent[] = []
    for (const e of events) {
      if (this.size >= this.capEvents) refused.push(e)
      else this.held.push({ id: e.id, json: e.json, bytes: e.bytes, token: 0 })
    }
    this.appended += events.length - refused.length
    return { refused }
  }

  async read(maxEvents: number): Promise<BufferedEvent[]> {
    const out = this.held.slice(this.cursor, this.cursor + maxEvents)
    this.cursor += out.length
    return out
  }

  async ack(events: readonly BufferedEvent[]): Promise<void> {
    for (const e of events) this.acked.add(e)
  }

  async close(): Promise<void> {}
}
