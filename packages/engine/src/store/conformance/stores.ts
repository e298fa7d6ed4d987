// The stores the conformance suite runs on, each behind the same handle: its Storage, the
// engine's use-cases over it, and what each store does its own way (ingest's write path,
// tenants), so that both hold the same data before their answers are compared.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine } from '../../engine.js'
import type { IngestBatch, IngestOutcome } from '../port.js'
import type { Storage } from '../storage.js'
import { SqliteStore } from '../sqlite/sqlite-store.js'
import { type PostgresHandle, type PostgresStorage, openPostgres } from '../postgres/index.js'
import { createTestDatabase, type TestDatabase } from './postgres-database.js'

/** The engine's use-cases over the PostgreSQL storage (the collector's store adds tenants and keys). */
class PostgresEngine extends Engine<PostgresStorage> {}

export interface StoreUnderTest {
  readonly name: 'sqlite' | 'postgres'
  readonly storage: Storage
  readonly engine: Engine
  createTenant(name: string): Promise<number>
  append(batch: IngestBatch): Promise<IngestOutcome[]>
  /** Empties every table, so tests of one file start alike. */
  reset(): Promise<void>
  close(): Promise<void>
}

export interface StoreFactory {
  readonly name: 'sqlite' | 'postgres'
  open(): Promise<StoreUnderTest>
}

export const sqliteFactory: StoreFactory = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'meterkit-conformance-'))
    let store = new SqliteStore(join(dir, 'meterkit.db'))
    return {
      name: 'sqlite',
      get storage() { return store.storage },
      get engine() { return store },
      createTenant: async (name) => (await store.createTenant(name, 0)).id,
      append: (batch) => store.ingest(batch),
      async reset() {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
        store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'meterkit-conformance-')), 'meterkit.db'))
      },
      async close() {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}

export const postgresFactory: StoreFactory = {
  name: 'postgres',
  async open() {
    const database: TestDatabase = await createTestDatabase()
    let handle: PostgresHandle
    try {
      handle = await openPostgres(database.url, { max: 4 })
    } catch (err) {
      await database.drop()
      throw err
    }
    return {
      name: 'postgres',
      storage: handle.storage,
      engine: new PostgresEngine(handle.storage),
      createTenant: async (name) => (await handle.pool.query<{ id: number }>('INSERT INTO tenants (name, created_at) VALUES ($1, 0) RETURNING id', [name])).rows[0]!.id,
      append: (batch) => handle.storage.append(batch),
      async reset() {
        const { rows } = await handle.pool.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations', 'index_state')")
        await handle.pool.query(`TRUNCATE ${rows.map((r) => r.tablename).join(', ')} RESTART IDENTITY`)
        await handle.pool.query('UPDATE index_state SET seq = 0')
      },
      async close() {
        await handle.close()
        await database.drop()
      },
    }
  },
}
