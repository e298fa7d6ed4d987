import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { MIGRATION_SUMMARIES, SCHEMA_VERSION, SchemaTooNewError, migrate, schemaStatus } from './migrations.js'

describe('schema migrations', () => {
  it('every migration says what it does (for migrate --check)', () => {
    expect(MIGRATION_SUMMARIES).toHaveLength(SCHEMA_VERSION)
    for (const s of MIGRATION_SUMMARIES) expect(s.trim()).not.toBe('')
  })

  it('records when each migration was applied, and applying again changes nothing', () => {
    const db = new Database(':memory:')
    expect(schemaStatus(db).pending.map((p) => p.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1))
    migrate(db, 1_700_000_000_000)
    migrate(db, 1_800_000_000_000)
    const status = schemaStatus(db)
    expect(status).toMatchObject({ version: SCHEMA_VERSION, target: SCHEMA_VERSION, pending: [] })
    expect(status.history.map((h) => h.appliedAtMs)).toEqual(Array(SCHEMA_VERSION).fill(1_700_000_000_000))
  })

  it('refuses a database of a newer schema, naming both versions', () => {
    const db = new Database(':memory:')
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    expect(() => migrate(db)).toThrow(SchemaTooNewError)
    expect(() => schemaStatus(db)).toThrow(`schema version ${SCHEMA_VERSION + 1}, newer than this meterkit understands (schema ${SCHEMA_VERSION})`)
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1)
  })
})
