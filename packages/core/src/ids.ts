// Event ids: UUIDv7 (time-ordered, RFC 9562) unless the caller supplies an idempotency key.
// Random bytes come from a pool refilled 64 KiB at a time: one crypto.getRandomValues() call
// costs microseconds on some machines, far more than the rest of track().
import { v7 } from 'uuid'

const POOL_BYTES = 65_536
const pool = new Uint8Array(POOL_BYTES)
let offset = POOL_BYTES
/** Monotonic within a millisecond, as uuid's own v7() keeps it. */
let lastMs = -Infinity
let seq = 0

export function newEventId(nowMs: number = Date.now()): string {
  if (offset + 16 > POOL_BYTES) {
    crypto.getRandomValues(pool)
    offset = 0
  }
  const random = pool.subarray(offset, offset + 16)
  offset += 16
  if (nowMs > lastMs) {
    lastMs = nowMs
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!
  } else {
    seq = (seq + 1) | 0
    if (seq === 0) lastMs++
  }
  return v7({ random, msecs: lastMs, seq })
}
