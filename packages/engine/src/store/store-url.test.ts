import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { StoreUrlError, parseStoreUrl } from './store-url.js'

describe('parseStoreUrl', () => {
  it('reads sqlite paths, relative and absolute', () => {
    expect(parseStoreUrl('sqlite:./meterkit.db')).toEqual({ kind: 'sqlite', path: './meterkit.db' })
    expect(parseStoreUrl('sqlite:/var/lib/meterkit.db')).toEqual({ kind: 'sqlite', path: '/var/lib/meterkit.db' })
    expect(parseStoreUrl('sqlite:///var/lib/meterkit.db')).toEqual({ kind: 'sqlite', path: '/var/lib/meterkit.db' })
    expect(parseStoreUrl('SQLite:data/x.db')).toEqual({ kind: 'sqlite', path: 'data/x.db' })
  })

  it('reads postgres URLs, with the default port and a display without the password', () => {
    expect(parseStoreUrl('postgres://mk@127.0.0.1:5433/meterkit')).toEqual({
      kind: 'postgres', url: 'postgres://mk@127.0.0.1:5433/meterkit', host: '127.0.0.1', port: 5433, database: 'meterkit', user: 'mk',
      display: 'postgres://mk@127.0.0.1:5433/meterkit',
    })
    const withSecret = parseStoreUrl('postgresql://mk:s3cret@db.internal/billing?sslmode=require')
    expect(withSecret).toMatchObject({ kind: 'postgres', host: 'db.internal', port: 5432, database: 'billing', user: 'mk' })
    expect(withSecret.kind === 'postgres' && withSecret.display).toBe('postgresql://mk:***@db.internal/billing?sslmode=require')
    expect(withSecret.kind === 'postgres' && withSecret.url).toContain('s3cret')
    expect(parseStoreUrl('postgres://db/my%20db')).toMatchObject({ database: 'my db', user: undefined })
  })

  it.each([
    ['', 'store URL: is empty'],
    ['./meterkit.db', 'has no scheme'],
    ['mysql://localhost/db', 'unknown scheme "mysql:"'],
    ['sqlite:', 'sqlite: needs a file path'],
    ['sqlite://host/x.db', 'not a host'],
    ['postgres://localhost', 'must name its database'],
    ['postgres://localhost/', 'must name its database'],
    ['postgres:///meterkit', 'must name its host'],
    ['postgres:meterkit', 'starts with postgres://'],
    ['postgres://localhost:99999/db', 'not a valid postgres URL'],
    ['postgres://localhost/a/b', 'must not contain "/"'],
    ['postgres://localhost/db#x', 'no #fragment'],
    ['sqlite:./a\nb.db', 'control characters'],
  ])('refuses %j naming the rule', (text, rule) => {
    expect(() => parseStoreUrl(text)).toThrow(StoreUrlError)
    expect(() => parseStoreUrl(text)).toThrow(rule)
  })

  it('any sqlite path without control characters comes back as given', () => {
    const control = (p: string) => [...p].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
    fc.assert(fc.property(fc.string({ minLength: 1 }).filter((p) => !control(p) && !p.startsWith('//')), (path) => {
      expect(parseStoreUrl(`sqlite:${path}`)).toEqual({ kind: 'sqlite', path })
    }))
  })

  it('a postgres URL built from its parts reads back as those parts', () => {
    const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/)
    fc.assert(fc.property(name, fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), name, (user, host, port, database) => {
      const url = `postgres://${user}@${host}${port === undefined ? '' : `:${port}`}/${database}`
      expect(parseStoreUrl(url)).toMatchObject({ kind: 'postgres', url, host, port: port ?? 5432, database, user })
    }))
  })

  it('answers a store or a StoreUrlError for any text, never another exception', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.string().map((s) => `postgres://${s}`), fc.string().map((s) => `sqlite:${s}`)), (text) => {
      try {
        expect(['sqlite', 'postgres']).toContain(parseStoreUrl(text).kind)
      } catch (err) {
        expect(err).toBeInstanceOf(StoreUrlError)
        expect((err as Error).message).toMatch(/^store URL: /)
      }
    }), { numRuns: 500 })
  })
})
