// Clock and timers are capabilities passed in per instance (tests use fake ones); the defaults
// are the Web-standard globals, with timers unref'd where the runtime supports it.

export interface Clock {
  now(): number
}

export interface Timers {
  setTimeout(handler: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /** Keeps the process alive until the returned function is called (while a flush is pending). */
  keepAlive?(): () => void
}

export const systemClock: Clock = { now: () => Date.now() }

function unref(handle: unknown): unknown {
  const h = handle as { unref?: () => void } | null
  if (h !== null && typeof h === 'object' && typeof h.unref === 'function') h.unref()
  return handle
}

export const systemTimers: Timers = {
  setTimeout: (handler, ms) => unref(setTimeout(handler, ms)),
  clearTimeout: (handle) => clearTimeout(handle),
  keepAlive: () => {
    const handle = setInterval(() => {}, 1 << 30)
    return () => clearInterval(handle)
  },
}

/** A sleep that can be cut short (shutdown wakes every sleeper). */
export interface Sleep {
  readonly promise: Promise<void>
  cancel(): void
}

export function sleep(timers: Timers, ms: number): Sleep {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  const handle = timers.setTimeout(resolve, ms)
  return {
    promise,
    cancel: () => {
      timers.clearTimeout(handle)
      resolve()
    },
  }
}
