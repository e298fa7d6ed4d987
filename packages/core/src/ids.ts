// Event ids: UUIDv7 (time-ordered, RFC 9562) unless the caller supplies an idempotency key,
// formatted here (a few lines) rather than by a library, to keep browser and edge bundles small.
// The layout is the uuid package's v7 with a 32-bit counter: monotonic within a millisecond.
// Random bytes come from a pool refilled 64 KiB at a time: one crypto.getRandomValues() call
// costs microseconds on some machines, far more than the rest of track().

const POOL_BYTES = 65_536
const pool = new Uint8Array(POOL_BYTES)
let offset = POOL_BYTES
/** Monotonic within a millisecond. */
let lastMs = -Infinity
let seq = 0

const HEX: string[] = []
for (let i = 0; i < 256; i++) HEX.push((i + 256).toString(16).slice(1))

/** The UUIDv7 of a millisecond, a counter and 16 random bytes (only bytes 10–15 are used). */
export function uuidV7(ms: number, counter: number, random: Uint8Array): string {
  const bytes = [
    ms / 0x10000000000, ms / 0x100000000, ms / 0x1000000, ms / 0x10000, ms / 0x100, ms,
    0x70 | ((counter >>> 28) & 0x0f), counter >>> 20, 0x80 | ((counter >>> 14) & 0x3f), counter >>> 6,
    ((counter << 2) & 0xff) | (random[10]! & 0x03), random[11]!, random[12]!, random[13]!, random[14]!, random[15]!,
  ]
  let out = ''
  for (let i = 0; i < 16; i++) out += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + HEX[bytes[i]! & 0xff]
  return out
}

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
  return uuidV7(lastMs, seq, random)
}
