// Live updates for open streams: one channel per tenant and customer, fed by the write paths
// after each commit (never by polling per stream). A commit marks the event names it stored;
// the channel reads its changed figures at most every `minIntervalMs`, once for all its streams,
// and sends only those that changed. Other code (credit balances) calls publish() directly.
//
// Event ids are `<epoch>-<seq>`: seq grows with every message sent, and the epoch names this
// process, so an id from before a restart is never mistaken for one of ours. A stream resuming
// with Last-Event-ID gets the latest message of each kind sent after that id, when its channel
// has lived since; otherwise a fresh snapshot (figures are states, not deltas: either is exact).
import type { Clock } from '@meterkit/engine'
import { Channel, type Keyed, type LiveMessage, type Subscriber } from './channel.js'
import { HEARTBEAT_FRAME, eventFrame } from './sse.js'

export interface LiveTimers {
  setTimeout(handler: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Where the messages of one kind come from. */
export interface LiveSource {
  /** Everything this source shows for the customer now: a new stream's first messages. */
  snapshot(tenantId: number, customerId: string, nowMs: number, emit: (message: Keyed) => void): Promise<void>
  /** Current messages for what the committed event names may have changed. */
  refresh?(tenantId: number, customerId: string, changed: ReadonlySet<string>, nowMs: number, emit: (message: Keyed) => void): Promise<void>
}

export interface LiveHubOptions {
  clock: Clock
  timers: LiveTimers
  /** Comment lines keep idle connections open through proxies (default 15 s). */
  heartbeatMs?: number
  /** Least time between two reads of one customer's figures (default 250 ms). */
  minIntervalMs?: number
  /** How long a channel outlives its last stream, so that a reconnect can resume (default 60 s). */
  retainMs?: number
  /** Where this process's commits are told to the others (queue mode); they call `received`. */
  relay?: { publish(tenantId: number, events: Iterable<{ customerId: string; event: string }>): void }
}

const channelKey = (tenantId: number, customerId: string) => `${tenantId}\u0000${customerId}`

export class LiveHub {
  readonly epoch: string
  private seq = 0
  private readonly channels = new Map<string, Channel>()
  private readonly sources: LiveSource[] = []
  private heartbeatTimer: unknown
  private subscriberCount = 0
  private closed = false
  private readonly heartbeatMs: number
  private readonly minIntervalMs: number
  private readonly retainMs: number

  constructor(private readonly options: LiveHubOptions) {
    this.epoch = options.clock.now().toString(36)
    this.heartbeatMs = options.heartbeatMs ?? 15_000
    this.minIntervalMs = options.minIntervalMs ?? 250
    this.retainMs = options.retainMs ?? 60_000
    this.armHeartbeat()
  }

  addSource(source: LiveSource): void {
    this.sources.push(source)
  }

  /** Open streams. */
  get streams(): number {
    return this.subscriberCount
  }

  /**
   * Sends `message` to the customer's open streams, as the latest of its kind (`key`, default
   * its type): the hook for figures that change outside the event path, such as balances.
   */
  publish(tenantId: number, customerId: string, message: LiveMessage, key = message.type): void {
    const channel = this.channels.get(channelKey(tenantId, customerId))
    if (channel !== undefined) void channel.enqueue(() => this.broadcast(channel, { key, message }))
  }

  /** After a commit: these events were stored, and the figures they feed may have changed. */
  committed(tenantId: number, events: Iterable<{ customerId: string; event: string }>): void {
    if (this.options.relay !== undefined) {
      const list = [...events]
      this.options.relay.publish(tenantId, list)
      events = list
    }
    this.received(tenantId, events)
  }

  /** A commit of another process (a worker, another collector): as `committed`, not relayed again. */
  received(tenantId: number, events: Iterable<{ customerId: string; event: string }>): void {
    if (this.channels.size === 0) return
    for (const e of events) {
      const channel = this.channels.get(channelKey(tenantId, e.customerId))
      if (channel === undefined) continue
      channel.changed.add(e.event)
      this.scheduleRefresh(channel)
    }
  }

  /** Adds a stream; answers the function that removes it. */
  subscribe(tenantId: number, customerId: string, subscriber: Subscriber, lastEventId?: string): () => void {
    if (this.closed) {
      subscriber.close()
      return () => undefined
    }
    const key = channelKey(tenantId, customerId)
    let channel = this.channels.get(key)
    const resumeFrom = channel === undefined ? undefined : this.resumePoint(channel, lastEventId)
    if (channel === undefined) {
      channel = new Channel(tenantId, customerId, this.seq)
      this.channels.set(key, channel)
    }
    if (channel.retainTimer !== undefined) {
      this.options.timers.clearTimeout(channel.retainTimer)
      channel.retainTimer = undefined
    }
    channel.subscribers.add(subscriber)
    this.subscriberCount++
    const ch = channel
    void ch.enqueue(() => (resumeFrom === undefined ? this.snapshot(ch, subscriber) : this.replay(ch, subscriber, resumeFrom)))
    this.scheduleRefresh(ch)
    let subscribed = true
    return () => {
      if (!subscribed) return
      subscribed = false
      ch.subscribers.delete(subscriber)
      this.subscriberCount--
      if (ch.subscribers.size === 0 && !this.closed) {
        ch.retainTimer = this.options.timers.setTimeout(() => {
          if (ch.subscribers.size === 0) this.dropChannel(ch)
        }, this.retainMs)
      }
    }
  }

  /**
   * Resolves once the work queued on every channel so far (snapshots, refreshes, published
   * messages) has run: tests wait on it for the store's reads, which on PostgreSQL are round trips.
   */
  async settled(): Promise<void> {
    await Promise.all([...this.channels.values()].map((channel) => channel.enqueue(() => undefined)))
  }

  /** Ends every stream (the server is shutting down). */
  close(): void {
    this.closed = true
    this.options.timers.clearTimeout(this.heartbeatTimer)
    for (const channel of [...this.channels.values()]) {
      for (const s of [...channel.subscribers]) s.close()
      this.dropChannel(channel)
    }
  }

  private dropChannel(channel: Channel): void {
    this.options.timers.clearTimeout(channel.refreshTimer)
    this.options.timers.clearTimeout(channel.retainTimer)
    this.channels.delete(channelKey(channel.tenantId, channel.customerId))
  }

  /** The seq after which a resuming stream needs messages, or undefined for a snapshot. */
  private resumePoint(channel: Channel, lastEventId: string | undefined): number | undefined {
    const match = lastEventId === undefined ? null : /^([0-9a-z]+)-(\d+)$/.exec(lastEventId)
    if (match === null || match[1] !== this.epoch) return undefined
    const seq = Number(match[2])
    return seq >= channel.createdSeq && seq <= this.seq ? seq : undefined
  }

  private async snapshot(channel: Channel, subscriber: Subscriber): Promise<void> {
    const id = `${this.epoch}-${this.seq}`
    const now = this.options.clock.now()
    for (const source of this.sources) {
      await source.snapshot(channel.tenantId, channel.customerId, now, ({ key, message }) => {
        if (channel.subscribers.has(subscriber)) channel.send(subscriber, key, eventFrame(id, message.type, message.data))
      })
    }
  }

  private replay(channel: Channel, subscriber: Subscriber, afterSeq: number): void {
    const missed = [...channel.latest.entries()].filter(([, l]) => l.seq > afterSeq).sort((a, b) => a[1].seq - b[1].seq)
    for (const [key, latest] of missed) channel.send(subscriber, key, latest.frame)
  }

  private broadcast(channel: Channel, { key, message, fingerprint }: Keyed): void {
    if (fingerprint !== undefined && channel.latest.get(key)?.fingerprint === fingerprint) return
    const seq = ++this.seq
    const frame = eventFrame(`${this.epoch}-${seq}`, message.type, message.data)
    channel.latest.set(key, { seq, frame, fingerprint })
    for (const s of [...channel.subscribers]) channel.send(s, key, frame)
  }

  private scheduleRefresh(channel: Channel): void {
    if (channel.refreshTimer !== undefined || channel.changed.size === 0 || channel.subscribers.size === 0) return
    const wait = Math.max(0, channel.lastRefreshMs + this.minIntervalMs - this.options.clock.now())
    channel.refreshTimer = this.options.timers.setTimeout(() => {
      void channel.enqueue(() => this.refresh(channel))
    }, wait)
  }

  private async refresh(channel: Channel): Promise<void> {
    const changed = channel.changed
    channel.changed = new Set()
    channel.lastRefreshMs = this.options.clock.now()
    try {
      for (const source of this.sources) {
        await source.refresh?.(channel.tenantId, channel.customerId, changed, channel.lastRefreshMs, (m) => this.broadcast(channel, m))
      }
    } finally {
      channel.refreshTimer = undefined
      this.scheduleRefresh(channel)
    }
  }

  private armHeartbeat(): void {
    this.heartbeatTimer = this.options.timers.setTimeout(() => {
      const now = this.options.clock.now()
      for (const channel of this.channels.values()) {
        for (const s of [...channel.subscribers]) {
          if (s.expiresAtMs !== undefined && now >= s.expiresAtMs) s.close()
          else if (!s.write(HEARTBEAT_FRAME)) s.close()
        }
      }
      if (!this.closed) this.armHeartbeat()
    }, this.heartbeatMs)
  }
}
