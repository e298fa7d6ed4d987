// Whether the queue can take events now: the connection to NATS (followed through its status
// events) and the stream's room. Readiness asks it, and a publish refused while NATS is away
// fails at once rather than waiting in the client's reconnect buffer.
import type { QueueConnection } from './stream.js'

/** Past this share of its byte or message cap, a stream counts as full for readiness. */
const FULL_SHARE = 0.98

export class QueueHealth {
  private disconnectedFrom: string | undefined

  constructor(private readonly q: QueueConnection) {
    void this.watch()
  }

  /** Why a publish cannot succeed now (NATS is away), or undefined. */
  unreachable(): string | undefined {
    if (this.q.nc.isClosed()) return 'the connection to NATS is closed'
    return this.disconnectedFrom === undefined ? undefined : `NATS at ${this.disconnectedFrom} is unreachable; reconnecting`
  }

  /** Why ingest cannot be queued now (NATS away, the stream full or not answering), or undefined. */
  async problem(): Promise<string | undefined> {
    const away = this.unreachable()
    if (away !== undefined) return away
    try {
      const { config, state } = await this.q.jsm.streams.info(this.q.layout.name)
      const bytesFull = config.max_bytes > 0 && state.bytes >= config.max_bytes * FULL_SHARE
      const msgsFull = config.max_msgs > 0 && state.messages >= config.max_msgs * FULL_SHARE
      if (bytesFull || msgsFull) return `the event stream ${config.name} is full (${state.messages} messages, ${state.bytes} of ${config.max_bytes} bytes): workers are behind`
      return undefined
    } catch (err) {
      return `the event stream ${this.q.layout.name} does not answer: ${(err as Error).message}`
    }
  }

  private async watch(): Promise<void> {
    for await (const s of this.q.nc.status()) {
      if (s.type === 'disconnect') this.disconnectedFrom = s.server
      else if (s.type === 'reconnect') this.disconnectedFrom = undefined
    }
  }
}
