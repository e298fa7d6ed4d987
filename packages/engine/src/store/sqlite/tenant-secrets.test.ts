import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from './sqlite-store.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-secrets-'))
  dirs.push(dir)
  return join(dir, 'meterkit.db')
}

describe('tenant secrets', () => {
  it('are created once per tenant and purpose, survive reopening, and are never created by a lookup', async () => {
    const path = open()
    const store = new SqliteStore(path)
    const a = await store.createTenant('a', 0)
    const b = await store.createTenant('b', 0)
    expect(await store.findTenantSecret(a.id, 'customer_tokens')).toBeUndefined()
    const first = randomBytes(32)
    expect(await store.tenantSecret(a.id, 'customer_tokens', first, 1)).toEqual(first)
    expect(await store.tenantSecret(a.id, 'customer_tokens', randomBytes(32), 2)).toEqual(first)
    const other = await store.tenantSecret(b.id, 'customer_tokens', randomBytes(32), 3)
    expect(other).not.toEqual(first)
    await store.close()

    const again = new SqliteStore(path)
    expect(await again.findTenantSecret(a.id, 'customer_tokens')).toEqual(first)
    expect(await again.findTenantSecret(999, 'customer_tokens')).toBeUndefined()
    await again.close()
  })

  it('keys are found by tenant and id, revoked ones with their revocation time', async () => {
    const store = new SqliteStore(open())
    const t = await store.createTenant('a', 0)
    await store.putApiKey({ id: 'key_1', tenantId: t.id, hash: randomBytes(32), name: 'n' }, 5)
    expect(await store.getApiKey(t.id, 'key_1')).toMatchObject({ id: 'key_1', tenantId: t.id, revokedAtMs: null })
    expect(await store.getApiKey(t.id + 1, 'key_1')).toBeUndefined()
    await store.revokeApiKey(t.id, 'key_1', 9)
    expect(await store.getApiKey(t.id, 'key_1')).toMatchObject({ revokedAtMs: 9 })
    await store.close()
  })
})
