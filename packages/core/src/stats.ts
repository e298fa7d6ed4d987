// The counters behind stats() (CONTRACT §2). All count events, not requests.

export interface MeterkitStats {
  /** Accepted by track(). */
  tracked: number
  /** Answered `accepted`, `duplicate` or `queued` (queue mode). */
  acknowledged: number
  /** The part of `acknowledged` answered `duplicate`. */
  duplicates: number
  /** Answered `rejected` or `conflict`. */
  rejected: number
  /** Re-sent after a failed attempt (each re-send counts). */
  retried: number
  /** Now waiting in the disk buffer. */
  buffered: number
  /** Given up, through onDrop. */
  dropped: number
  /** In requests awaiting an answer. */
  inFlight: number
}

export type Counters = Omit<MeterkitStats, 'buffered'>

export function newCounters(): Counters {
  return { tracked: 0, acknowledged: 0, duplicates: 0, rejected: 0, retried: 0, dropped: 0, inFlight: 0 }
}
