// Durability 'track': every event tracked into memory is also appended to the buffer, claimed, in
// group appends at most `windowMs` apart (the first after a quiet spell at once), so a crash
// loses at most the events of the last window and of the append under way. Memory still sends
// them; once the memory path settles an event, its claimed copy is acknowledged, or never
// written if its group has not gone yet. The JSON of an event is written here, off track().
import type { EventBuffer } from './buffer.js'
import type { QueuedEvent } from './event.js'
import type { Clock, Timers } from './time.js'

export type ClaimingBuffer = EventBuffer & Required<Pick<EventBuffer, 'appendClaimed'>>

export interface MirrorOptions {
  buffer: ClaimingBuffer
  clock: Clock
  timers: Timers
  windowMs: number
  /** After each group append: durable flush() calls may resolve. */
  onWritten: () => void
  /** A failed buffer operation (`write`, `ack`). */
  onFailure: (operation: 'write' | 'ack', err: unknown) => void
  /** Events the buffer refused at its cap: not on disk, still in memory. */
  onRefused: (count: number) => void
}

export class Mirror {
  readonly #o: MirrorOptions
  /** Tracked, waiting for the next group append (or detached: `none`). */
  #pending: QueuedEvent[] = []
  /** The group append under way. */
  #writing: QueuedEvent[] = []
  /** Live events that are not on disk: refused, failed or detached. */
  #unmirrored: QueuedEvent[] = []
  #timer: unknown = undefined
  #running: Promise<void> | undefined
  #again = false
  #lastWriteAt = -Infinity
  #stopped = false
  #claimed = 0

  constructor(options: MirrorOptions) {
    this.#o = options
  }

  /** Events whose claimed copy is on disk and not acknowledged yet. */
  get claimed(): number {
    return this.#claimed
  }

  /** A tracked event, queued in memory: it goes out with the next group append. */
  add(event: QueuedEvent): void {
    event.disk = 'pending'
    this.#pending.push(event)
    if (this.#timer === undefined && this.#running === undefined && !this.#stopped) this.#arm()
  }

  /** flush() asks for durability now: the next group append starts at once. */
  writeNow(): void {
    if (this.#stopped || this.#pending.length === 0) return
    if (this.#running !== undefined) {
      this.#again = true
      return
    }
    this.#disarm()
    this.#run()
  }

  /**
   * The memory path settled these events (answered, dropped, or stored in the buffer as
   * ordinary records): their claimed copies are acknowledged, and those not written yet never
   * will be.
   */
  release(events: readonly QueuedEvent[]): void {
    let acks: QueuedEvent[] | undefined
    for (const event of events) {
      if (event.disk === 'on_disk') {
        ;(acks ??= []).push(event)
        this.#claimed--
      }
      // `writing`: acknowledged when its append ends.
      event.disk = 'released'
    }
    if (acks !== undefined) this.#ack(acks)
  }

  /** Events about to be appended as ordinary records: not worth a claimed copy any more. */
  detach(events: readonly QueuedEvent[]): void {
    for (const event of events) if (event.disk === 'pending') event.disk = 'none'
  }

  /** Whether every live event numbered up to `target` is on disk. */
  durableThrough(target: number): boolean {
    if (this.#unmirrored.length > 0) this.#unmirrored = this.#unmirrored.filter((e) => e.disk !== 'released')
    for (const list of [this.#writing, this.#pending, this.#unmirrored]) {
      for (const event of list) {
        if (event.seq <= target && event.disk !== 'released' && event.disk !== 'on_disk') return false
      }
    }
    return true
  }

  /** Stops writing: the append under way ends first. Pending events are left to the caller. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#disarm()
    while (this.#running !== undefined) await this.#running
  }

  /** At shutdown, after stop(): what is still claimed stays on disk for the next process. */
  letGo(): void {
    this.#claimed = 0
  }

  #arm(): void {
    const wait = Math.max(0, this.#lastWriteAt + this.#o.windowMs - this.#o.clock.now())
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined
      this.#run()
    }, wait)
  }

  #disarm(): void {
    if (this.#timer === undefined) return
    this.#o.timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #run(): void {
    if (this.#stopped || this.#running !== undefined) return
    this.#running = this.#write().finally(() => {
      this.#running = undefined
      if (this.#stopped || this.#pending.length === 0) return
      if (this.#again) {
        this.#again = false
        this.#run()
      } else this.#arm()
    })
  }

  async #write(): Promise<void> {
    const group: QueuedEvent[] = []
    for (const event of this.#pending) {
      if (event.disk === 'pending') {
        event.disk = 'writing'
        group.push(event)
      } else if (event.disk === 'none') this.#unmirrored.push(event)
    }
    this.#pending = []
    if (group.length === 0) return
    this.#writing = group
    this.#lastWriteAt = this.#o.clock.now()
    let refused: ReadonlySet<unknown> | undefined
    let token = 0
    let failed = false
    try {
      const result = await this.#o.buffer.appendClaimed(group)
      token = result.token
      if (result.refused.length > 0) refused = new Set(result.refused)
    } catch (err) {
      failed = true
      this.#o.onFailure('write', err)
    }
    let acks: QueuedEvent[] | undefined
    for (const event of group) {
      const stored = !failed && refused?.has(event) !== true
      if (stored) event.token = token
      if (event.disk === 'released') {
        if (stored) (acks ??= []).push(event)
      } else if (stored) {
        event.disk = 'on_disk'
        this.#claimed++
      } else {
        event.disk = 'none'
        this.#unmirrored.push(event)
      }
    }
    this.#writing = []
    if (acks !== undefined) this.#ack(acks)
    if (refused !== undefined) this.#o.onRefused(refused.size)
    this.#o.onWritten()
  }

  #ack(events: QueuedEvent[]): void {
    this.#o.buffer.ack(events).catch((err: unknown) => this.#o.onFailure('ack', err))
  }
}
