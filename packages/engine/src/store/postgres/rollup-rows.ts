// Meter rollups and their unique values as rows: what the fold writes and readers read.
import type { RollupKey, RollupReads, RollupRecord, RollupRows } from '../../meters/storage.js'
import type { Sql } from './sql.js'

interface Row {
  bucket: number
  group_key: string
  count: number
  sum: string | null
  min: string | null
  max: string | null
  latest_ts: number | null
  latest_id: string | null
  latest_value: string | null
}

const COLUMNS = 'bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value'
const WHERE = 'WHERE tenant_id = $1 AND meter = $2 AND customer_id = $3 AND bucket >= $4 AND bucket < $5'
const KEY = 'tenant_id = $1 AND meter = $2 AND customer_id = $3 AND bucket = $4 AND group_key = $5'

const toRecord = (r: Row): RollupRecord => ({
  bucket: r.bucket, groupKey: r.group_key, count: r.count, sum: r.sum, min: r.min, max: r.max, latestTs: r.latest_ts, latestId: r.latest_id, latestValue: r.latest_value,
})

const keyValues = (k: RollupKey) => [k.tenantId, k.meter, k.customerId, k.bucket, k.groupKey]

export class PgRollupReads implements RollupReads {
  constructor(protected readonly sql: Sql) {}

  async rollups(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number, countsOnly: boolean): Promise<RollupRecord[]> {
    const values = [tenantId, meter, customerId, fromBucket, toBucket]
    if (countsOnly) {
      const rows = await this.sql.rows<Row>('rollups_counts', `SELECT bucket, group_key, count, sum FROM meter_rollups ${WHERE}`, values)
      return rows.map((r) => ({ bucket: r.bucket, groupKey: r.group_key, count: r.count, sum: r.sum, min: null, max: null, latestTs: null, latestId: null, latestValue: null }))
    }
    return (await this.sql.rows<Row>('rollups_full', `SELECT ${COLUMNS} FROM meter_rollups ${WHERE}`, values)).map(toRecord)
  }

  async uniques(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number): Promise<{ bucket: number; groupKey: string; value: string }[]> {
    const rows = await this.sql.rows<{ bucket: number; group_key: string; value: string }>(
      'rollups_uniques', `SELECT bucket, group_key, value FROM meter_uniques ${WHERE}`, [tenantId, meter, customerId, fromBucket, toBucket],
    )
    return rows.map((r) => ({ bucket: r.bucket, groupKey: r.group_key, value: r.value }))
  }
}

export class PgRollupRows extends PgRollupReads implements RollupRows {
  async get(k: RollupKey): Promise<RollupRecord | undefined> {
    const row = await this.sql.one<Row>('rollups_get', `SELECT ${COLUMNS} FROM meter_rollups WHERE ${KEY}`, keyValues(k))
    return row && toRecord(row)
  }

  async insert(k: RollupKey, r: RollupRecord): Promise<boolean> {
    const added = await this.sql.run(
      'rollups_insert',
      `INSERT INTO meter_rollups (tenant_id, meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
      [...keyValues(k), r.count, r.sum, r.min, r.max, r.latestTs, r.latestId, r.latestValue],
    )
    return added === 1
  }

  async update(k: RollupKey, r: RollupRecord): Promise<void> {
    await this.sql.run(
      'rollups_update',
      `UPDATE meter_rollups SET count = $6, sum = $7, min = $8, max = $9, latest_ts = $10, latest_id = $11, latest_value = $12 WHERE ${KEY}`,
      [...keyValues(k), r.count, r.sum, r.min, r.max, r.latestTs, r.latestId, r.latestValue],
    )
  }

  async addUniques(k: RollupKey, values: Iterable<string>): Promise<void> {
    const list = [...values]
    if (list.length === 0) return
    await this.sql.run(
      'rollups_add_uniques',
      'INSERT INTO meter_uniques (tenant_id, meter, customer_id, bucket, group_key, value) SELECT $1, $2, $3, $4, $5, unnest($6::text[]) ON CONFLICT DO NOTHING',
      [...keyValues(k), list],
    )
  }

  async deleteBucket(tenantId: number, meter: string, customerId: string, bucket: number): Promise<void> {
    const values = [tenantId, meter, customerId, bucket]
    await this.sql.run('rollups_delete_bucket', 'DELETE FROM meter_rollups WHERE tenant_id = $1 AND meter = $2 AND customer_id = $3 AND bucket = $4', values)
    await this.sql.run('rollups_delete_bucket_uniques', 'DELETE FROM meter_uniques WHERE tenant_id = $1 AND meter = $2 AND customer_id = $3 AND bucket = $4', values)
  }

  async deleteMeter(tenantId: number, meter: string): Promise<void> {
    await this.sql.run('rollups_delete_meter', 'DELETE FROM meter_rollups WHERE tenant_id = $1 AND meter = $2', [tenantId, meter])
    await this.sql.run('rollups_delete_meter_uniques', 'DELETE FROM meter_uniques WHERE tenant_id = $1 AND meter = $2', [tenantId, meter])
  }

  async allOf(tenantId: number, meter: string, customerId: string): Promise<{ rows: RollupRecord[]; uniques: { bucket: number; groupKey: string; value: string }[] }> {
    const values = [tenantId, meter, customerId]
    const rows = await this.sql.rows<Row>('rollups_all_of', `SELECT ${COLUMNS} FROM meter_rollups WHERE tenant_id = $1 AND meter = $2 AND customer_id = $3`, values)
    const uniques = await this.sql.rows<{ bucket: number; group_key: string; value: string }>(
      'rollups_all_uniques_of', 'SELECT bucket, group_key, value FROM meter_uniques WHERE tenant_id = $1 AND meter = $2 AND customer_id = $3', values,
    )
    return { rows: rows.map(toRecord), uniques: uniques.map((u) => ({ bucket: u.bucket, groupKey: u.group_key, value: u.value })) }
  }

  async generation(): Promise<number> {
    return (await this.sql.one<{ seq: number }>('rollups_generation', "SELECT seq FROM index_state WHERE name = 'generation'"))!.seq
  }

  async bumpGeneration(): Promise<void> {
    await this.sql.run('rollups_bump_generation', "UPDATE index_state SET seq = seq + 1 WHERE name = 'generation'")
  }
}
