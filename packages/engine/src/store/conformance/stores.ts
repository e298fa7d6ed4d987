// The stores the conformance suite runs on, each behind the same handle: its Storage, and the
// writes whose ports are not in the Tx yet (event appends, configuration, rollup rows) done the
// store's own way, so both hold the same data before the ports are compared.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TenantConfig } from '@meterkit/protocol'
import type { RollupRecord } from '../../meters/storage.js'
import type { IngestBatch, IngestOutcome } from '../port.js'
import type { Storage } from '../storage.js'
import { SqliteStore } from '../sqlite/sqlite-store.js'
import { type PostgresHandle, openPostgres } from '../postgres/index.js'
import { createTestDatabase, type TestDatabase } from './postgres-database.js'

export interface RollupSeed extends RollupRecord {
  tenantId: number
  meter: string
  customerId: string
}

export interface StoreUnderTest {
  readonly name: 'sqlite' | 'postgres'
  readonly storage: Storage
  createTenant(name: string): Promise<number>
  append(batch: IngestBatch): Promise<IngestOutcome[]>
  applyConfig(tenantId: number, config: TenantConfig, nowMs: number): Promise<void>
  seedRollups(rows: RollupSeed[], uniques: { tenantId: number; meter: string; customerId: string; bucket: number; groupKey: string; value: string }[]): Promise<void>
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
      createTenant: async (name) => (await store.createTenant(name, 0)).id,
      append: (batch) => store.ingest(batch),
      applyConfig: async (tenantId, config, nowMs) => void (await store.applyConfig(tenantId, config, null, nowMs)),
      async seedRollups(rows, uniques) {
        const insert = store.db.prepare(
          `INSERT INTO meter_rollups (tenant_id, meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        const unique = store.db.prepare('INSERT INTO meter_uniques (tenant_id, meter, customer_id, bucket, group_key, value) VALUES (?, ?, ?, ?, ?, ?)')
        store.db.transaction(() => {
          for (const r of rows) insert.run(r.tenantId, r.meter, r.customerId, r.bucket, r.groupKey, r.count, r.sum, r.min, r.max, r.latestTs, r.latestId, r.latestValue)
          for (const u of uniques) unique.run(u.tenantId, u.meter, u.customerId, u.bucket, u.groupKey, u.value)
        })()
      },
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
      createTenant: async (name) => (await handle.pool.query<{ id: number }>('INSERT INTO tenants (name, created_at) VALUES ($1, 0) RETURNING id', [name])).rows[0]!.id,
      append: (batch) => handle.storage.transaction('write', (tx) => tx.events.append(batch)),
      async applyConfig(tenantId, config, nowMs) {
        await handle.pool.query(
          'INSERT INTO config_versions (tenant_id, version, config, applied_at) SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM config_versions WHERE tenant_id = $1',
          [tenantId, JSON.stringify(config), nowMs],
        )
      },
      async seedRollups(rows, uniques) {
        for (const r of rows) {
          await handle.pool.query(
            `INSERT INTO meter_rollups (tenant_id, meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            [r.tenantId, r.meter, r.customerId, r.bucket, r.groupKey, r.count, r.sum, r.min, r.max, r.latestTs, r.latestId, r.latestValue],
          )
        }
        for (const u of uniques) {
          await handle.pool.query('INSERT INTO meter_uniques (tenant_id, meter, customer_id, bucket, group_key, value) VALUES ($1, $2, $3, $4, $5, $6)', [u.tenantId, u.meter, u.customerId, u.bucket, u.groupKey, u.value])
        }
      },
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
