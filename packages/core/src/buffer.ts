// The durable buffer a runtime may supply (Node: files under `bufferDir`; browser: IndexedDB).
// Batching and retry stay in core: the buffer only stores, hands out and forgets events.
import type { SerializedEvent } from './event.js'

/** An event read back from the buffer; `token` tells the buffer where it came from. */
export interface BufferedEvent extends SerializedEvent {
  readonly token: number
}

export interface EventBuffer {
  /**
   * Stores events durably (resolves after fsync or equivalent). Events past the size cap are
   * refused, newest first, and answered so the client can report them.
   */
  append(events: readonly SerializedEvent[]): Promise<{ refused: SerializedEvent[] }>
  /**
   * Stores events before returning, where the runtime may stop right after the call (a page
   * being left: its asynchronous writes are abandoned). False when it cannot; optional.
   */
  appendNow?(events: readonly SerializedEvent[]): boolean
  /** The next events not yet handed out, oldest first, within the limits; empty when none. */
  read(maxEvents: number, maxBytes: number): Promise<BufferedEvent[]>
  /** Forgets events that are settled (acknowledged, rejected or dropped). */
  ack(events: readonly BufferedEvent[]): Promise<void>
  /** Events now held, handed out or not. */
  readonly size: number
  close(): Promise<void>
}
