// Raw events as rows: appends under the append lock, and reads in the orders the engine reads
// them. Rollups cover the events up to the `rollups` watermark; a customer's range reads either
// side of it from one index.
import type { JsonValue, Properties } from '@meterkit/protocol'
import { jsonEqual } from '../../json.js'
import type { EventHistory, EventListRequest, EventReads, EventRecord, EventRows } from '../../meters/storage.js'
import type { EventSource, IngestBatch, IngestOutcome } from '../port.js'
import { APPEND_LOCK, LOCK_NAMESPACE } from './locks.js'
import type { Sql } from './sql.js'

const FIELDS = 'seq, tenant_id, id, event, customer_id, ts, coalesce(current, properties) AS properties, source, status, reservation_id, received_at'

interface Row {
  seq: number
  tenant_id: number
  id: string
  event: string
  customer_id: string
  ts: number
  properties: string
  source: EventSource
  status: string
  reservation_id: string | null
  received_at: number
}

function toEventRecord(r: Row): EventRecord {
  return {
    seq: r.seq, tenantId: r.tenant_id, id: r.id, event: r.event, customerId: r.customer_id, timestampMs: r.ts, properties: r.properties,
    source: r.source, status: r.status, reservationId: r.reservation_id, receivedAtMs: r.received_at,
  }
}

const RANGE = `SELECT ${FIELDS} FROM events WHERE tenant_id = $1 AND customer_id = $2 AND ts >= $3 AND ts < $4`
const WATERMARK = "(SELECT seq FROM index_state WHERE name = 'rollups')"

export class PgEventReads implements EventReads {
  constructor(protected readonly sql: Sql) {}

  async maxSeq(): Promise<number> {
    const row = await this.sql.one<{ seq: number }>('events_max_seq', 'SELECT coalesce(max(seq), 0)::bigint AS seq FROM events')
    return row!.seq
  }

  async customerRange(tenantId: number, customerId: string, fromMs: number, toMs: number, options: { event?: string; folded?: boolean } = {}): Promise<EventRecord[]> {
    const { event, folded } = options
    const side = folded === undefined ? '' : folded ? ` AND seq <= ${WATERMARK}` : ` AND seq > ${WATERMARK}`
    const name = `events_customer_range_${event === undefined ? 'all' : 'of'}_${folded === undefined ? 'any' : folded ? 'folded' : 'tail'}`
    const rows = event === undefined
      ? await this.sql.rows<Row>(name, RANGE + side, [tenantId, customerId, fromMs, toMs])
      : await this.sql.rows<Row>(name, `${RANGE} AND event = $5${side}`, [tenantId, customerId, fromMs, toMs, event])
    return rows.map(toEventRecord)
  }

  async range(afterSeq: number, toSeq: number): Promise<EventRecord[]> {
    return (await this.sql.rows<Row>('events_range', `SELECT ${FIELDS} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [afterSeq, toSeq])).map(toEventRecord)
  }

  async arrivals(afterSeq: number, toSeq: number): Promise<{ seq: number; tenantId: number; customerId: string; timestampMs: number }[]> {
    const rows = await this.sql.rows<{ seq: number; tenant_id: number; customer_id: string; ts: number }>(
      'events_arrivals', 'SELECT seq, tenant_id, customer_id, ts FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq', [afterSeq, toSeq],
    )
    return rows.map((r) => ({ seq: r.seq, tenantId: r.tenant_id, customerId: r.customer_id, timestampMs: r.ts }))
  }

  async bySeqs(seqs: readonly number[]): Promise<{ id: string; timestampMs: number }[]> {
    if (seqs.length === 0) return []
    const rows = await this.sql.rows<{ seq: number; id: string; ts: number }>('events_by_seqs', 'SELECT seq, id, ts FROM events WHERE seq = ANY($1::bigint[])', [seqs])
    const bySeq = new Map(rows.map((r) => [r.seq, r]))
    return seqs.map((seq) => {
      const row = bySeq.get(seq)
      if (row === undefined) throw new RangeError(`events: no event with seq ${seq}`)
      return { id: row.id, timestampMs: row.ts }
    })
  }
}

interface StoredContent {
  id: string
  event: string
  customer_id: string
  ts: number
  properties: string
  reservation_id: string | null
}

interface VersionRow {
  version: number
  action: 'amend' | 'void'
  properties: string | null
  reason: string
  at: number
  key_id: string | null
}

/** The events as ingest, corrections, listings, the rollup fold and audits use them. */
export class PgEventRows extends PgEventReads implements EventRows {
  async find(tenantId: number, id: string): Promise<EventHistory | undefined> {
    const row = await this.sql.one<Row & { original: string }>(
      'events_find', `SELECT ${FIELDS}, properties AS original FROM events WHERE tenant_id = $1 AND id = $2`, [tenantId, id],
    )
    if (row === undefined) return undefined
    const versions = await this.sql.rows<VersionRow>(
      'events_versions', 'SELECT version, action, properties, reason, at, key_id FROM event_versions WHERE tenant_id = $1 AND id = $2 ORDER BY version', [tenantId, id],
    )
    return {
      record: toEventRecord(row),
      original: row.original,
      corrections: versions.map((v) => ({
        version: v.version,
        action: v.action,
        properties: v.properties === null ? null : (JSON.parse(v.properties) as Properties),
        reason: v.reason,
        atMs: v.at,
        keyId: v.key_id,
      })),
    }
  }

  async list(tenantId: number, q: EventListRequest): Promise<EventRecord[]> {
    // Unset filters compare with NULL and drop out, so one plan serves every combination.
    return (await this.sql.rows<Row>(
      'events_list',
      `SELECT ${FIELDS} FROM events WHERE tenant_id = $1
         AND ($2::text IS NULL OR customer_id = $2) AND ($3::text IS NULL OR event = $3)
         AND ($4::bigint IS NULL OR ts >= $4) AND ($5::bigint IS NULL OR ts < $5)
         AND ($6::bigint IS NULL OR (ts, id) < ($6, $7::text))
       ORDER BY ts DESC, id DESC LIMIT $8`,
      [tenantId, q.customerId ?? null, q.event ?? null, q.fromMs ?? null, q.toMs ?? null, q.before?.[0] ?? null, q.before?.[1] ?? null, q.limit],
    )).map(toEventRecord)
  }

  async correct(tenantId: number, id: string, c: { action: 'amend' | 'void'; properties: string | null; reason: string; atMs: number; keyId: string | null }): Promise<void> {
    await this.sql.run(
      'events_add_version',
      `INSERT INTO event_versions (tenant_id, id, version, action, properties, reason, at, key_id)
       SELECT $1, $2, coalesce(max(version), 1) + 1, $3, $4, $5, $6, $7 FROM event_versions WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, c.action, c.properties, c.reason, c.atMs, c.keyId],
    )
    if (c.action === 'void') await this.sql.run('events_set_voided', "UPDATE events SET status = 'voided' WHERE tenant_id = $1 AND id = $2", [tenantId, id])
    else await this.sql.run('events_set_amended', "UPDATE events SET status = 'amended', current = $1 WHERE tenant_id = $2 AND id = $3", [c.properties, tenantId, id])
  }

  async foldedSeq(): Promise<number> {
    return (await this.sql.one<{ seq: number }>('events_folded_seq', "SELECT seq FROM index_state WHERE name = 'rollups'"))!.seq
  }

  /** Moves the watermark only: the customer index is an ordinary index here, kept by every insert. */
  async markFolded(_afterSeq: number, toSeq: number): Promise<void> {
    await this.sql.run('events_mark_folded', "UPDATE index_state SET seq = $1 WHERE name = 'rollups'", [toSeq])
  }

  async named(tenantId: number, event: string, toSeq: number): Promise<EventRecord[]> {
    return (await this.sql.rows<Row>('events_named', `SELECT ${FIELDS} FROM events WHERE tenant_id = $1 AND event = $2 AND seq <= $3`, [tenantId, event, toSeq])).map(toEventRecord)
  }

  async foldedCustomers(): Promise<{ tenantId: number; customerId: string }[]> {
    const rows = await this.sql.rows<{ tenant_id: number; customer_id: string }>(
      'events_folded_customers', `SELECT DISTINCT tenant_id, customer_id FROM events WHERE seq <= ${WATERMARK} ORDER BY tenant_id, customer_id`,
    )
    return rows.map((r) => ({ tenantId: r.tenant_id, customerId: r.customer_id }))
  }

  async foldedOf(tenantId: number, customerId: string): Promise<EventRecord[]> {
    return (await this.sql.rows<Row>(
      'events_folded_of', `SELECT ${FIELDS} FROM events WHERE tenant_id = $1 AND customer_id = $2 AND seq <= ${WATERMARK}`, [tenantId, customerId],
    )).map(toEventRecord)
  }

  /** No index of the store's own to check: the customer index is PostgreSQL's, kept with each row. */
  async audit(toSeq: number): Promise<{ events: number; problems: string[] }> {
    const row = await this.sql.one<{ n: number }>('events_audit', 'SELECT count(*) AS n FROM events WHERE seq <= $1', [toSeq])
    return { events: row!.n, problems: [] }
  }

  /**
   * Stores a batch's events (the first of a repeated id wins), creating their customers, and
   * tells new events from duplicates and conflicts, one outcome per event in order. Takes the
   * append lock for the rest of the transaction (locks.ts): seqs commit in the order given.
   */
  async append(batch: IngestBatch): Promise<IngestOutcome[]> {
    if (batch.events.length === 0) return []
    await this.sql.run('events_append_lock', 'SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, APPEND_LOCK])
    return this.appendLocked(batch)
  }

  /** `append` in a transaction that already holds the append lock. */
  async appendLocked(batch: IngestBatch): Promise<IngestOutcome[]> {
    return (await this.appendGroup([batch]))[0]!
  }

  /**
   * Several batches in a transaction that holds the append lock (group commit), in one statement
   * whatever their number: the ids not stored yet are inserted (the first of a repeated one),
   * numbered in order after the greatest seq, which the append lock keeps still, so no seq is
   * taken by a row that is not stored; their customers are created with them; and the statement
   * answers the ordinals it did not insert, none in the common case. Only then is the stored
   * content of those read, to tell duplicates from conflicts. Later batches see the earlier
   * ones' events as stored.
   */
  async appendGroup(batches: readonly IngestBatch[]): Promise<IngestOutcome[][]> {
    const outcomes = batches.map((b) => new Array<IngestOutcome>(b.events.length).fill('accepted'))
    // The candidates as columns; `at` maps a candidate's ordinal (from 1) to its batch and index.
    const tenants: number[] = [], ids: string[] = [], names: string[] = [], customers: string[] = [], times: number[] = []
    const properties: string[] = [], reservations: (string | null)[] = [], sources: string[] = [], received: number[] = []
    const at: [number, number][] = []
    const repeated: [number, number][] = []
    const seen = new Map<number, Set<string>>()
    batches.forEach((b, bi) => {
      let ofTenant = seen.get(b.tenantId)
      if (ofTenant === undefined) seen.set(b.tenantId, (ofTenant = new Set()))
      b.events.forEach((e, ei) => {
        if (ofTenant.has(e.id)) return void repeated.push([bi, ei])
        ofTenant.add(e.id)
        tenants.push(b.tenantId); ids.push(e.id); names.push(e.event); customers.push(e.customerId); times.push(e.timestampMs)
        properties.push(e.propertiesJson); reservations.push(e.reservationId ?? null); sources.push(b.source); received.push(b.receivedAtMs)
        at.push([bi, ei])
      })
    })
    if (ids.length === 0) return outcomes
    // One index probe per id (the LIMIT keeps the subquery a probe): a table that grew since its
    // statistics must not be planned as a scan of every event.
    const known = await this.sql.rows<{ n: number }>(
      'events_append',
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[]) WITH ORDINALITY
           AS e (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at, n)
       ), fresh AS (
         SELECT i.*, row_number() OVER (ORDER BY i.n) AS r FROM input i
           LEFT JOIN LATERAL (SELECT true AS hit FROM events e WHERE e.tenant_id = i.tenant_id AND e.id = i.id LIMIT 1) AS k ON true
         WHERE k.hit IS NULL
       ), stored AS (
         INSERT INTO events (seq, tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at)
         SELECT m.seq + f.r, f.tenant_id, f.id, f.event, f.customer_id, f.ts, f.properties, f.reservation_id, f.source, f.received_at
         FROM fresh f, (SELECT coalesce(max(seq), 0) AS seq FROM events) AS m
         ORDER BY f.r
         RETURNING tenant_id, customer_id, received_at
       ), customers AS (
         INSERT INTO customers (tenant_id, id, created_at)
         SELECT DISTINCT ON (tenant_id, customer_id) tenant_id, customer_id, received_at FROM stored ORDER BY tenant_id, customer_id, received_at
         ON CONFLICT (tenant_id, id) DO NOTHING
       )
       SELECT i.n FROM input i WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.n = i.n)`,
      [tenants, ids, names, customers, times, properties, reservations, sources, received],
    )
    for (const { n } of known) repeated.push(at[Number(n) - 1]!)
    if (repeated.length === 0) return outcomes
    const found = await this.sql.rows<StoredContent & { tenant_id: number }>(
      'events_stored_content',
      `SELECT x.tenant_id, x.id, x.event, x.customer_id, x.ts, x.properties, x.reservation_id FROM unnest($1::bigint[], $2::text[]) AS k (tenant_id, id),
         LATERAL (SELECT * FROM events e WHERE e.tenant_id = k.tenant_id AND e.id = k.id LIMIT 1) AS x`,
      [repeated.map(([bi]) => batches[bi]!.tenantId), repeated.map(([bi, ei]) => batches[bi]!.events[ei]!.id)],
    )
    const stored = new Map(found.map((f) => [`${f.tenant_id}\u0000${f.id}`, f]))
    for (const [bi, ei] of repeated) {
      const b = batches[bi]!
      const e = b.events[ei]!
      outcomes[bi]![ei] = sameContent(stored.get(`${b.tenantId}\u0000${e.id}`)!, e) ? 'duplicate' : 'conflict'
    }
    return outcomes
  }
}

/** A repeated id is a duplicate when everything the client sent matches what is stored. */
function sameContent(stored: StoredContent, e: IngestBatch['events'][number]): boolean {
  if (stored.event !== e.event || stored.customer_id !== e.customerId || stored.ts !== e.timestampMs) return false
  if (stored.reservation_id !== (e.reservationId ?? null)) return false
  return stored.properties === e.propertiesJson
    || jsonEqual(JSON.parse(stored.properties) as JsonValue, JSON.parse(e.propertiesJson) as JsonValue)
}
