// Secret API keys: random, shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto'
import type { ApiKeyRecord, Store } from '../store/port.js'

export const SECRET_KEY_PREFIX = 'mk_sec_'
/** A user-chosen secret key (`--admin-key`): `mk_sec_` and 16–128 characters of A-Za-z0-9_ in all. */
export const SECRET_KEY_PATTERN = /^mk_sec_[A-Za-z0-9_]{9,121}$/

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** `length` characters of base62 from a CSPRNG, without modulo bias. */
export function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62]
    }
  }
  return out
}

export function newSecretKey(): string {
  return `${SECRET_KEY_PREFIX}${randomBase62(32)}`
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}

export function isValidSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key)
}

/** Creates a secret key for a tenant: stores its hash and answers the key, to be shown once. */
export async function issueSecretKey(store: Store, tenantId: number, name: string | null, nowMs: number): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = newSecretKey()
  const record = await store.putApiKey({ id: `key_${randomBase62(20)}`, tenantId, hash: hashKey(key), name }, nowMs)
  return { key, record }
}
