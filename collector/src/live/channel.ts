// One customer's live channel: the streams open on it, the last message of each kind (for
// resumes and for skipping updates that change nothing), and the events committed since the
// figures were last read. Work on a channel runs one task at a time, so a stream never sees an
// older figure after a newer one.

export interface LiveMessage {
  type: string
  data: unknown
}

/** A message with the key it replaces (`usage:<meter>`, `balance`) and what tells it changed. */
export interface Keyed {
  key: string
  message: LiveMessage
  /** Equal fingerprints mean nothing to send (usage: configuration version and value). */
  fingerprint?: string
}

export interface Subscriber {
  /** Whether this stream wants messages of `key` (e.g. only some meters). */
  accepts(key: string): boolean
  /** Writes one frame; false when the client is too far behind (the hub then closes it). */
  write(frame: string): boolean
  close(): void
  /** Customer tokens end their streams when they expire. */
  expiresAtMs: number | undefined
}

export interface Latest {
  seq: number
  frame: string
  fingerprint: string | undefined
}

export class Channel {
  readonly subscribers = new Set<Subscriber>()
  readonly latest = new Map<string, Latest>()
  /** Event names committed since the figures were last read. */
  changed = new Set<string>()
  /** When the figures were last read (throttle). */
  lastRefreshMs = Number.NEGATIVE_INFINITY
  refreshTimer: unknown = undefined
  retainTimer: unknown = undefined
  private work: Promise<void> = Promise.resolve()

  constructor(readonly tenantId: number, readonly customerId: string, readonly createdSeq: number) {}

  /** Runs `task` after the channel's earlier tasks; a failing task does not stop later ones. */
  enqueue(task: () => Promise<void> | void): Promise<void> {
    this.work = this.work.then(task).catch(() => undefined)
    return this.work
  }

  send(subscriber: Subscriber, key: string, frame: string): void {
    if (!subscriber.accepts(key)) return
    if (!subscriber.write(frame)) subscriber.close()
  }
}
