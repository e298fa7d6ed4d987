import { afterEach, describe, expect, it } from 'vitest'
import { databasePath, storeUrl } from './database.js'

const saved = { MK_STORE: process.env.MK_STORE, MK_DB: process.env.MK_DB }
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

describe('which store a command opens', () => {
  it('takes --store, else --db, else MK_STORE, else MK_DB, else sqlite:./meterkit.db', () => {
    delete process.env.MK_STORE
    delete process.env.MK_DB
    expect(storeUrl({})).toEqual({ kind: 'sqlite', path: './meterkit.db' })
    process.env.MK_DB = '/var/lib/mk.db'
    expect(storeUrl({})).toEqual({ kind: 'sqlite', path: '/var/lib/mk.db' })
    process.env.MK_STORE = 'postgres://mk@db:5433/meterkit'
    expect(storeUrl({})).toMatchObject({ kind: 'postgres', host: 'db', port: 5433, database: 'meterkit' })
    expect(storeUrl({ db: './x.db' })).toEqual({ kind: 'sqlite', path: './x.db' })
    expect(storeUrl({ store: 'sqlite:./y.db' })).toEqual({ kind: 'sqlite', path: './y.db' })
    expect(databasePath({ store: 'postgres://mk@db/meterkit' })).toBeUndefined()
  })

  it('refuses both flags at once, and a URL it cannot read, naming the rule', () => {
    expect(() => storeUrl({ store: 'sqlite:./a.db', db: './b.db' })).toThrow('--store and --db name the same thing')
    expect(() => storeUrl({ store: 'mysql://x' })).toThrow(/unknown scheme "mysql:"/)
    expect(() => storeUrl({ store: 'postgres://' })).toThrow(/store URL/)
  })
})
