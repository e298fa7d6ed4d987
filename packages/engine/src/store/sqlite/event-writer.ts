// The write half of ingest: stores the events of many batches in one transaction (group
// commit) and tells new events from duplicates and conflicts. Used in-thread or from the
// writer worker; batches travel as flat rows so that crossing threads is cheap.
import type Database from 'better-sqlite3'
import type { JsonValue } from '@meterkit/protocol'
import { jsonEqual } from '../../json.js'
import type { EventSource, IngestBatch, IngestOutcome } from '../port.js'

/** Fields per event in a flat row batch: id, event, customerId, ts, propertiesJson, reservationId. */
export const ROW_WIDTH = 6

export interface RowBatch {
  tenantId: number
  source: EventSource
  receivedAtMs: number
  rows: (string | number | null)[]
}

export function toRowBatch(batch: IngestBatch): RowBatch {
  const rows = new Array<string | number | null>(batch.events.length * ROW_WIDTH)
  let k = 0
  for (const e of batch.events) {
    rows[k++] = e.id
    rows[k++] = e.event
    rows[k++] = e.customerId
    rows[k++] = e.timestampMs
    rows[k++] = e.propertiesJson
    rows[k++] = e.reservationId ?? null
  }
  return { tenantId: batch.tenantId, source: batch.source, receivedAtMs: batch.receivedAtMs, rows }
}

/** Outcome codes as they cross threads. */
export const OUTCOMES: readonly IngestOutcome[] = ['accepted', 'duplicate', 'conflict']

interface StoredContent {
  event: string
  customer_id: string
  ts: number
  properties: string
  reservation_id: string | null
}

const KNOWN_CUSTOMERS_CAP = 100_000

export class EventWriter {
  private readonly insertEvent
  private readonly storedContent
  private readonly insertCustomer
  private readonly writeGroupTx
  /** Customers known to exist per tenant, so ingest skips their insert; filled after a commit only. */
  private readonly knownCustomers = new Map<number, Set<string>>()
  private knownCount = 0

  constructor(private readonly db: Database.Database) {
    this.insertEvent = db.prepare(
      `INSERT INTO events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
    )
    this.storedContent = db.prepare(
      'SELECT event, customer_id, ts, properties, reservation_id FROM events WHERE tenant_id = ? AND id = ?',
    )
    this.insertCustomer = db.prepare(
      'INSERT INTO customers (tenant_id, id, created_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING',
    )
    this.writeGroupTx = db.transaction((batches: RowBatch[], newCustomers: [number, string][]) => batches.map((b) => this.writeBatch(b, newCustomers)))
  }

  private writeBatch(batch: RowBatch, newCustomers: [number, string][]): Uint8Array {
    const { tenantId, source, receivedAtMs, rows } = batch
    const n = rows.length / ROW_WIDTH
    const outcomes = new Uint8Array(n)
    const known = this.knownCustomers.get(tenantId)
    for (let i = 0, k = 0; i < n; i++, k += ROW_WIDTH) {
      const id = rows[k] as string
      const customerId = rows[k + 2] as string
      const { changes } = this.insertEvent.run(tenantId, id, rows[k + 1], customerId, rows[k + 3], rows[k + 4], rows[k + 5], source, receivedAtMs)
      if (changes === 1) {
        if (known === undefined || !known.has(customerId)) {
          this.insertCustomer.run(tenantId, customerId, receivedAtMs)
          newCustomers.push([tenantId, customerId])
        }
      } else {
        outcomes[i] = this.sameContent(tenantId, rows, k) ? 1 : 2
      }
    }
    return outcomes
  }

  /** A repeated id is a duplicate when everything the client sent matches what is stored. */
  private sameContent(tenantId: number, rows: RowBatch['rows'], k: number): boolean {
    const stored = this.storedContent.get(tenantId, rows[k]) as StoredContent
    if (stored.event !== rows[k + 1] || stored.customer_id !== rows[k + 2] || stored.ts !== rows[k + 3]) return false
    if (stored.reservation_id !== rows[k + 5]) return false
    return stored.properties === rows[k + 4]
      || jsonEqual(JSON.parse(stored.properties) as JsonValue, JSON.parse(rows[k + 4] as string) as JsonValue)
  }

  /** Stores many batches in one transaction; one outcome array per batch (codes of OUTCOMES). */
  writeGroup(batches: RowBatch[]): Uint8Array[] {
    const newCustomers: [number, string][] = []
    const outcomes = this.writeGroupTx(batches, newCustomers)
    if (this.knownCount + newCustomers.length > KNOWN_CUSTOMERS_CAP) {
      this.knownCustomers.clear()
      this.knownCount = 0
    }
    for (const [tenantId, customerId] of newCustomers) {
      let set = this.knownCustomers.get(tenantId)
      if (set === undefined) this.knownCustomers.set(tenantId, (set = new Set()))
      if (!set.has(customerId)) this.knownCount++
      set.add(customerId)
    }
    return outcomes
  }
}
