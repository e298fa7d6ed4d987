// The work of one partition this worker holds: its durable consumer's messages, applied in
// groups (one group at a time, so a partition's messages are stored in the order they came),
// while the next group gathers. Stopping closes the consumer, lets the group in hand finish
// (its acks follow its commit) and hands back, unacknowledged, what had not been applied.
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream'

export class PartitionRunner {
  private messages: ConsumerMessages | undefined
  private pending: JsMsg[] = []
  private draining: Promise<void> | undefined
  private stopped = false

  constructor(
    readonly partition: number,
    private readonly consumer: Consumer,
    /** Applies a group and acks (or naks) each message; never rejects. */
    private readonly apply: (group: JsMsg[]) => Promise<void>,
    private readonly groupMessages: number,
  ) {}

  async start(): Promise<void> {
    this.messages = await this.consumer.consume({ max_messages: this.groupMessages * 2, callback: (m) => this.arrived(m) })
  }

  /** Stops taking messages; resolves once the group in hand is applied and the rest handed back. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.messages?.close().catch(() => undefined)
    await this.draining
    for (const m of this.pending) m.nak()
    this.pending = []
  }

  private arrived(m: JsMsg): void {
    if (this.stopped) {
      m.nak()
      return
    }
    this.pending.push(m)
    this.kick()
  }

  private kick(): void {
    if (this.draining !== undefined) return
    this.draining = (async () => {
      // Messages of one read from the socket arrive together: let them gather into one group.
      await new Promise((resolve) => setImmediate(resolve))
      while (this.pending.length > 0 && !this.stopped) await this.apply(this.pending.splice(0, this.groupMessages))
    })().finally(() => {
      this.draining = undefined
      if (this.pending.length > 0 && !this.stopped) this.kick()
    })
  }
}
