// The storage port. Asynchronous so that PostgreSQL fits behind it unchanged; the SQLite store
// does its work synchronously inside. Every store passes the same conformance suite.
import type { Properties, ValidEvent } from '@meterkit/protocol'

export type EventSource = 'server' | 'browser' | 'import'

/** What ingest answers for each valid event of a batch, in order. */
export type IngestOutcome = 'accepted' | 'duplicate' | 'conflict'

export interface IngestBatch {
  tenantId: number
  source: EventSource
  receivedAtMs: number
  events: ValidEvent[]
}

export interface StoredEvent {
  id: string
  event: string
  customerId: string
  timestampMs: number
  properties: Properties
  reservationId: string | undefined
  source: EventSource
  receivedAtMs: number
}

export interface EventQuery {
  customerId?: string
  event?: string
  fromMs?: number
  toMs?: number
  /** Opaque cursor from a previous page. */
  cursor?: string
  limit: number
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

export interface Tenant {
  id: number
  name: string
  createdAtMs: number
}

export interface ApiKeyRecord {
  id: string
  tenantId: number
  name: string | null
  createdAtMs: number
  revokedAtMs: number | null
}

export interface Store {
  /**
   * Stores the new events of one batch in one durable transaction and tells, for each event,
   * whether it was new, a duplicate (same id, same content) or a conflict (same id, other
   * content). Dedup has no time window. Resolves only after the commit is durable.
   */
  ingest(batch: IngestBatch): Promise<IngestOutcome[]>
  getEvent(tenantId: number, id: string): Promise<StoredEvent | undefined>
  listEvents(tenantId: number, query: EventQuery): Promise<Page<StoredEvent>>

  createTenant(name: string, nowMs: number): Promise<Tenant>
  getTenant(id: number): Promise<Tenant | undefined>
  /** The tenant with the lowest id, created with `name` on first call. */
  defaultTenant(name: string, nowMs: number): Promise<Tenant>

  /** Stores a key's hash; `id` is public, the key itself is never stored. Idempotent per hash. */
  putApiKey(key: { id: string; tenantId: number; hash: Buffer; name: string | null }, nowMs: number): Promise<ApiKeyRecord>
  findApiKeyByHash(hash: Buffer): Promise<ApiKeyRecord | undefined>
  revokeApiKey(tenantId: number, id: string, nowMs: number): Promise<boolean>
  hasActiveKey(tenantId: number): Promise<boolean>

  /** Whether the store can take writes (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}
