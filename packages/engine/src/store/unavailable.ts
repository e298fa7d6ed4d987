// Storage faults that a client should retry later (disk full, I/O error, a lock held too long):
// callers answer them as `unavailable` (503 with Retry-After), never as an internal error.
const RETRY_LATER = /^SQLITE_(FULL|IOERR|BUSY|LOCKED)/

export function isStoreUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && RETRY_LATER.test(code)
}
