// Storage faults that a client should retry later (disk full, I/O error, a lock held too long,
// a database that cannot be reached): callers answer them as `unavailable` (503 with
// Retry-After), never as an internal error.
const RETRY_LATER = /^(SQLITE_(FULL|IOERR|BUSY|LOCKED)|STORE_UNAVAILABLE$)/

/** A store that cannot serve now, whatever the store: its message says which and why. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE'
}

export function isStoreUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && RETRY_LATER.test(code)
}
