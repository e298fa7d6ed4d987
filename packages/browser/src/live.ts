// Live updates over server-sent events: one EventSource per client, shared by every listener,
// opened with the first and closed with the last. EventSource reconnects by itself after a
// network fault (sending Last-Event-ID); when the collector refuses it (an expired token) it
// stops, and this reopens it with a fresh token, resuming after the last event received.
// Loaded on the first subscribe(), so a page that only tracks never downloads it; it imports
// nothing, so that bundlers without code splitting inline it alone.

export interface LiveUpdate {
  type: 'usage' | 'balance'
  data: unknown
}

export type LiveListener = (update: LiveUpdate) => void

export class LiveStream {
  readonly #listeners = new Set<LiveListener>()
  #source: EventSource | undefined
  #lastEventId = ''
  #retryMs = 1000
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #url: (lastEventId: string) => string | undefined
  readonly #renew: () => Promise<boolean>
  readonly #onError: (code: string, message: string) => void

  /** `url`: the stream's URL for the current token, resuming after `lastEventId` when given. */
  constructor(url: (lastEventId: string) => string | undefined, renew: () => Promise<boolean>, onError: (code: string, message: string) => void) {
    this.#url = url
    this.#renew = renew
    this.#onError = onError
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#open()
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#close()
    }
  }

  #open(): void {
    const url = this.#url(this.#lastEventId)
    if (url === undefined) return this.#reopen()
    const source = (this.#source = new EventSource(url))
    const deliver = (type: LiveUpdate['type']) => (e: MessageEvent<string>) => {
      this.#lastEventId = e.lastEventId || this.#lastEventId
      this.#retryMs = 1000
      const data = JSON.parse(e.data) as unknown
      for (const l of [...this.#listeners]) {
        try {
          l({ type, data })
        } catch {
          // A listener's fault never stops the others.
        }
      }
    }
    source.addEventListener('usage', deliver('usage'))
    source.addEventListener('balance', deliver('balance'))
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED && this.#source === source) this.#reopen()
    }
  }

  /** The collector refused the stream (or no token yet): renew the token and try again, backing off. */
  #reopen(): void {
    this.#source?.close()
    this.#source = undefined
    this.#timer = setTimeout(() => {
      void this.#renew().then((renewed) => {
        if (this.#listeners.size === 0) return
        if (!renewed) this.#onError('stream_refused', 'the collector refused the live stream; retrying')
        this.#open()
      })
    }, this.#retryMs)
    this.#retryMs = Math.min(this.#retryMs * 2, 30_000)
  }

  #close(): void {
    clearTimeout(this.#timer)
    this.#source?.close()
    this.#source = undefined
  }
}
