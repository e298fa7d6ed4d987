// Secret API keys: random, shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto'
import type { ApiKeyRecord, KeyMode, Store } from '../store/port.js'
import type { KeyScope } from './scopes.js'

export const SECRET_KEY_PREFIX = 'mk_sec_'
/** Keys of a test tenant: their data never mixes with live data. */
export const TEST_KEY_PREFIX = 'mk_test_'
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

export function newSecretKey(mode: KeyMode = 'live'): string {
  return `${mode === 'test' ? TEST_KEY_PREFIX : SECRET_KEY_PREFIX}${randomBase62(32)}`
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}

export function isValidSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key)
}

export interface IssueKeyOptions {
  /** Default `['admin']`. */
  scopes?: readonly KeyScope[]
  expiresAtMs?: number | null
  /** `test` for a key of a test tenant (`mk_test_…`); the tenant must be one. Default `live`. */
  mode?: KeyMode
}

/** Creates a secret key for a tenant: stores its hash and answers the key, to be shown once. */
export async function issueSecretKey(store: Store, tenantId: number, name: string | null, nowMs: number, options: IssueKeyOptions = {}): Promise<{ key: string; record: ApiKeyRecord }> {
  const mode = options.mode ?? 'live'
  // A test key lives on the tenant's paired test tenant (created on first use).
  const tenant = mode === 'test' ? await store.testTenant(tenantId, nowMs) : await store.getTenant(tenantId)
  if (tenant === undefined) throw new RangeError(`no tenant ${tenantId}`)
  if (mode === 'live' && tenant.liveTenantId !== undefined) throw new RangeError('a test tenant has test keys only')
  const key = newSecretKey(mode)
  const record = await store.putApiKey({ id: `key_${randomBase62(20)}`, tenantId: tenant.id, hash: hashKey(key), name, scopes: options.scopes, expiresAtMs: options.expiresAtMs }, nowMs)
  return { key, record }
}
