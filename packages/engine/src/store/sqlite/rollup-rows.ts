// Meter rollups and their unique values as rows: what the fold writes and readers read.
import type Database from 'better-sqlite3'
import type { RollupKey, RollupRecord, RollupRows } from '../../meters/storage.js'
import { SqliteRollupReads } from './rollup-reads.js'

type Full = [number, string, number, string | null, string | null, string | null, number | null, string | null, string | null]

const toRecord = (v: Full): RollupRecord => ({
  bucket: v[0], groupKey: v[1], count: v[2], sum: v[3], min: v[4], max: v[5], latestTs: v[6], latestId: v[7], latestValue: v[8],
})

export class SqliteRollupRows extends SqliteRollupReads implements RollupRows {
  private readonly write

  constructor(db: Database.Database) {
    super(db)
    const columns = 'bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value'
    this.write = {
      get: db.prepare(`SELECT ${columns} FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ? AND group_key = ?`).raw(),
      insert: db.prepare(
        `INSERT INTO meter_rollups (tenant_id, meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      update: db.prepare(
        `UPDATE meter_rollups SET count = ?, sum = ?, min = ?, max = ?, latest_ts = ?, latest_id = ?, latest_value = ?
         WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ? AND group_key = ?`,
      ),
      putUnique: db.prepare('INSERT OR IGNORE INTO meter_uniques (tenant_id, meter, customer_id, bucket, group_key, value) VALUES (?, ?, ?, ?, ?, ?)'),
      deleteBucketRollups: db.prepare('DELETE FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ?'),
      deleteBucketUniques: db.prepare('DELETE FROM meter_uniques WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ?'),
      deleteMeterRollups: db.prepare('DELETE FROM meter_rollups WHERE tenant_id = ? AND meter = ?'),
      deleteMeterUniques: db.prepare('DELETE FROM meter_uniques WHERE tenant_id = ? AND meter = ?'),
      allRows: db.prepare(`SELECT ${columns} FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ?`).raw(),
      allUniques: db.prepare('SELECT bucket, group_key, value FROM meter_uniques WHERE tenant_id = ? AND meter = ? AND customer_id = ?').raw(),
      generation: db.prepare("SELECT seq FROM index_state WHERE name = 'generation'").pluck(),
      bumpGeneration: db.prepare("UPDATE index_state SET seq = seq + 1 WHERE name = 'generation'"),
    }
  }

  get(k: RollupKey): RollupRecord | undefined {
    const v = this.write.get.get(k.tenantId, k.meter, k.customerId, k.bucket, k.groupKey) as Full | undefined
    return v && toRecord(v)
  }

  insert(k: RollupKey, r: RollupRecord): boolean {
    return this.write.insert.run(k.tenantId, k.meter, k.customerId, k.bucket, k.groupKey, r.count, r.sum, r.min, r.max, r.latestTs, r.latestId, r.latestValue).changes === 1
  }

  update(k: RollupKey, r: RollupRecord): void {
    this.write.update.run(r.count, r.sum, r.min, r.max, r.latestTs, r.latestId, r.latestValue, k.tenantId, k.meter, k.customerId, k.bucket, k.groupKey)
  }

  addUniques(k: RollupKey, values: Iterable<string>): void {
    for (const value of values) this.write.putUnique.run(k.tenantId, k.meter, k.customerId, k.bucket, k.groupKey, value)
  }

  deleteBucket(tenantId: number, meter: string, customerId: string, bucket: number): void {
    this.write.deleteBucketRollups.run(tenantId, meter, customerId, bucket)
    this.write.deleteBucketUniques.run(tenantId, meter, customerId, bucket)
  }

  deleteMeter(tenantId: number, meter: string): void {
    this.write.deleteMeterRollups.run(tenantId, meter)
    this.write.deleteMeterUniques.run(tenantId, meter)
  }

  allOf(tenantId: number, meter: string, customerId: string): { rows: RollupRecord[]; uniques: { bucket: number; groupKey: string; value: string }[] } {
    return {
      rows: (this.write.allRows.all(tenantId, meter, customerId) as Full[]).map(toRecord),
      uniques: (this.write.allUniques.all(tenantId, meter, customerId) as [number, string, string][]).map(([bucket, groupKey, value]) => ({ bucket, groupKey, value })),
    }
  }

  generation(): number {
    return this.write.generation.get() as number
  }

  bumpGeneration(): void {
    this.write.bumpGeneration.run()
  }
}
