// Event ids: UUIDv7 (time-ordered, RFC 9562) unless the caller supplies an idempotency key,
// formatted here (a few lines) rather than by a library, to keep browser and edge bundles small.
// The layout is the uuid package's v7 with a 32-bit counter: monotonic within a millisecond.
// Random bytes come from a pool refilled 64 KiB at a time: one crypto.getRandomValues() call
// costs microseconds on some machines, far more than the rest of track(). The id is built by one
// String.fromCharCode call: a flat 36-byte string, where concatenating pieces would leave a tree
// of intermediate strings in every queued event (and take three times as long).

const POOL_BYTES = 65_536
const pool = new Uint8Array(POOL_BYTES)
let offset = POOL_BYTES
/** Monotonic within a millisecond. */
let lastMs = -Infinity
let seq = 0

/** Character codes of the hex digits. */
const DIGITS = new Uint8Array(16)
for (let i = 0; i < 16; i++) DIGITS[i] = '0123456789abcdef'.charCodeAt(i)
const DASH = 0x2d

/**
 * The UUIDv7 of a millisecond, a counter and 16 random bytes from `at` in `random` (only bytes
 * 10–15 are used).
 */
export function uuidV7(ms: number, counter: number, random: Uint8Array, at = 0): string {
  const hi = Math.floor(ms / 0x100000000) & 0xffff
  const lo = ms >>> 0
  const b0 = hi >>> 8, b1 = hi & 0xff, b2 = lo >>> 24, b3 = (lo >>> 16) & 0xff, b4 = (lo >>> 8) & 0xff, b5 = lo & 0xff
  const b6 = 0x70 | ((counter >>> 28) & 0x0f), b7 = (counter >>> 20) & 0xff
  const b8 = 0x80 | ((counter >>> 14) & 0x3f), b9 = (counter >>> 6) & 0xff
  const b10 = ((counter << 2) & 0xff) | (random[at + 10]! & 0x03)
  const b11 = random[at + 11]!, b12 = random[at + 12]!, b13 = random[at + 13]!, b14 = random[at + 14]!, b15 = random[at + 15]!
  const d = DIGITS
  return String.fromCharCode(
    d[b0 >>> 4]!, d[b0 & 15]!, d[b1 >>> 4]!, d[b1 & 15]!, d[b2 >>> 4]!, d[b2 & 15]!, d[b3 >>> 4]!, d[b3 & 15]!, DASH,
    d[b4 >>> 4]!, d[b4 & 15]!, d[b5 >>> 4]!, d[b5 & 15]!, DASH,
    d[b6 >>> 4]!, d[b6 & 15]!, d[b7 >>> 4]!, d[b7 & 15]!, DASH,
    d[b8 >>> 4]!, d[b8 & 15]!, d[b9 >>> 4]!, d[b9 & 15]!, DASH,
    d[b10 >>> 4]!, d[b10 & 15]!, d[b11 >>> 4]!, d[b11 & 15]!, d[b12 >>> 4]!, d[b12 & 15]!,
    d[b13 >>> 4]!, d[b13 & 15]!, d[b14 >>> 4]!, d[b14 & 15]!, d[b15 >>> 4]!, d[b15 & 15]!,
  )
}

export function newEventId(nowMs: number = Date.now()): string {
  if (offset + 16 > POOL_BYTES) {
    crypto.getRandomValues(pool)
    offset = 0
  }
  const at = offset
  offset += 16
  if (nowMs > lastMs) {
    lastMs = nowMs
    seq = ((pool[at + 6]! & 0x7f) << 24) | (pool[at + 7]! << 16) | (pool[at + 8]! << 8) | pool[at + 9]!
  } else {
    seq = (seq + 1) | 0
    if (seq === 0) lastMs++
  }
  return uuidV7(lastMs, seq, pool, at)
}
