// The memory queue: a FIFO of serialized events with a running byte count. An array with a
// moving head, compacted now and then, so push and shift are O(1) amortized.
import type { QueuedEvent } from './event.js'

export class EventQueue {
  #items: (QueuedEvent | undefined)[] = []
  #head = 0
  /** Sum of the queued events' serialized bytes. */
  bytes = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(event: QueuedEvent): void {
    this.#items.push(event)
    this.bytes += event.bytes
  }

  peek(): QueuedEvent | undefined {
    return this.#items[this.#head]
  }

  shift(): QueuedEvent | undefined {
    if (this.#head >= this.#items.length) return undefined
    const event = this.#items[this.#head]!
    this.#items[this.#head++] = undefined
    this.bytes -= event.bytes
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return event
  }

  /** Empties the queue and answers what it held, oldest first. */
  drain(): QueuedEvent[] {
    const out = this.#items.slice(this.#head) as QueuedEvent[]
    this.#items = []
    this.#head = 0
    this.bytes = 0
    return out
  }
}
