// Server-sent events on the wire: frames, and a Response whose body is fed by a subscriber.
// Frames are queued per stream up to a bound; a client that falls further behind is closed
// and, reconnecting, resumes from its last event id.
import type { Subscriber } from './channel.js'

const encoder = new TextEncoder()
/** Frames a stream may have waiting before its client counts as gone. */
const MAX_QUEUED_FRAMES = 1000

export function eventFrame(id: string, type: string, data: unknown): string {
  // JSON.stringify never emits a newline: the data fits one `data:` line.
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`
}

export const HEARTBEAT_FRAME = ': heartbeat\n\n'

export interface SseStream {
  response: Response
  subscriber: Subscriber
}

/** A text/event-stream Response and the subscriber that writes into it; `onClose` runs once. */
export function sseStream(options: {
  accepts: (key: string) => boolean
  expiresAtMs: number | undefined
  signal: AbortSignal
  onClose: () => void
  headers?: Record<string, string>
}): SseStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let open = true
  const finish = () => {
    if (!open) return
    open = false
    options.onClose()
  }
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    cancel: finish,
  }, { highWaterMark: MAX_QUEUED_FRAMES })
  options.signal.addEventListener('abort', finish, { once: true })

  const subscriber: Subscriber = {
    accepts: options.accepts,
    expiresAtMs: options.expiresAtMs,
    write(frame) {
      if (!open) return true
      controller.enqueue(encoder.encode(frame))
      return (controller.desiredSize ?? 0) > 0
    },
    close() {
      if (!open) return
      finish()
      try {
        controller.close()
      } catch {
        // already closed by the client
      }
    },
  }
  const response = new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Proxies such as nginx would otherwise hold frames back.
      'x-accel-buffering': 'no',
      ...options.headers,
    },
  })
  return { response, subscriber }
}
