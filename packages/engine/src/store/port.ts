// The storage port. Asynchronous so that PostgreSQL fits behind it unchanged; the SQLite store
// does its work synchronously inside. Every store passes the same conformance suite.
import type { JsonValue, Properties, TenantConfig, ValidEvent } from '@meterkit/protocol'
import type { UsageResult, UsageWindow } from '../meters/usage.js'
import type { BillingStore } from '../billing/model.js'
import type { BalanceView, LedgerEntryView } from '../credits/index.js'
import type { WebhookStore } from '../webhooks/model.js'
import type { KeyScope } from '../auth/scopes.js'

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
  status: EventStatus
}

export type EventStatus = 'active' | 'amended' | 'voided'

export interface EventVersion {
  version: number
  action: 'receive' | 'amend' | 'void'
  properties: Properties | null
  reason: string | null
  atMs: number
  keyId: string | null
}

export interface EventWithVersions extends StoredEvent {
  /** The properties as received (version 1); `properties` holds the current ones. */
  versions: EventVersion[]
}

export interface Customer {
  id: string
  name: string | null
  email: string | null
  timezone: string
  metadata: Record<string, JsonValue> | null
  createdAtMs: number
}

export interface CustomerInput {
  id: string
  name?: string | null
  email?: string | null
  timezone?: string
  metadata?: Record<string, JsonValue> | null
}

export interface ConfigVersion {
  version: number
  config: TenantConfig
  appliedAtMs: number
}

export interface UsageRequest {
  customerId: string
  meter: string
  fromMs: number
  toMs: number
  window: UsageWindow
  groupBy: string[]
}

export interface UsageEventsRequest {
  customerId: string
  meter: string
  fromMs: number
  toMs: number
  /** Only events whose group has these values (dimension → value). */
  group?: Record<string, JsonValue>
  cursor?: string
  limit: number
}

export interface UsageEvent {
  id: string
  timestampMs: number
  value: string | null
  group: Record<string, JsonValue>
}

/** Expected failures of a correction, as values. */
export type CorrectionResult =
  | { ok: true; event: EventWithVersions }
  | { ok: false; code: 'not_found' | 'voided' }

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
  /** Set on a test tenant: the live tenant it pairs with (test mode, `mk_test_` keys). */
  liveTenantId?: number
}

/** Live data, or the separate data of a live tenant's paired test tenant. */
export type KeyMode = 'live' | 'test'

/** What a tenant secret is for; each purpose has its own, so one never signs for another. */
export type SecretPurpose = 'customer_tokens'

export interface ApiKeyRecord {
  id: string
  tenantId: number
  name: string | null
  createdAtMs: number
  revokedAtMs: number | null
  /** What the key may do; keys made before scopes are `['admin']`. */
  scopes: KeyScope[]
  /** After this instant the key is refused; null: never. */
  expiresAtMs: number | null
  /** Roughly when the key was last used (recorded at most once a minute); null: never. */
  lastUsedAtMs: number | null
  /** `test` when the key's tenant is a test tenant. */
  mode: KeyMode
}

export interface ApiKeyInput {
  id: string
  tenantId: number
  hash: Buffer
  name: string | null
  /** Default `['admin']`. */
  scopes?: readonly KeyScope[]
  expiresAtMs?: number | null
}

/** The first answer to a request sent with an `Idempotency-Key`, kept to replay it. */
export interface IdempotencyRecord {
  requestHash: string
  state: 'in_progress' | 'done'
  status: number | null
  body: string | null
  createdAtMs: number
}

/** Idempotency-Key claims, per tenant, route and key (the rules are the collector's: idempotency.ts). */
export interface IdempotencyStore {
  /** Claims the key for this request (in progress), or answers the record already there. Atomic across processes. */
  claim(tenantId: number, route: string, key: string, requestHash: string, nowMs: number): Promise<{ claimed: true } | { claimed: false; record: IdempotencyRecord }>
  /** Stores the answer of a claimed key. */
  complete(tenantId: number, route: string, key: string, response: { status: number; body: string }): Promise<void>
  /** Drops a claim whose request did nothing (it failed before or inside its transaction), so a retry runs again. */
  release(tenantId: number, route: string, key: string): Promise<void>
  /** Deletes records created before `beforeMs`; answers how many. */
  prune(beforeMs: number): Promise<number>
}

export interface Store {
  /**
   * Stores the new events of one batch in one durable transaction and tells, for each event,
   * whether it was new, a duplicate (same id, same content) or a conflict (same id, other
   * content). Dedup has no time window. Resolves only after the commit is durable.
   */
  ingest(batch: IngestBatch): Promise<IngestOutcome[]>
  getEvent(tenantId: number, id: string): Promise<EventWithVersions | undefined>
  listEvents(tenantId: number, query: EventQuery): Promise<Page<StoredEvent>>

  createTenant(name: string, nowMs: number): Promise<Tenant>
  getTenant(id: number): Promise<Tenant | undefined>
  /** The tenant with the lowest id, created with `name` on first call. */
  defaultTenant(name: string, nowMs: number): Promise<Tenant>

  /** The live tenant's paired test tenant, created on first call (two processes racing get the same one). */
  testTenant(liveTenantId: number, nowMs: number): Promise<Tenant>

  /** Stores a key's hash; `id` is public, the key itself is never stored. Idempotent per hash. */
  putApiKey(key: ApiKeyInput, nowMs: number): Promise<ApiKeyRecord>
  /** The tenant's keys, oldest first, revoked ones included; never a hash. */
  listApiKeys(tenantId: number): Promise<ApiKeyRecord[]>
  /** Records that a key was used now. */
  touchApiKey(id: string, nowMs: number): Promise<void>
  findApiKeyByHash(hash: Buffer): Promise<ApiKeyRecord | undefined>
  revokeApiKey(tenantId: number, id: string, nowMs: number): Promise<boolean>
  hasActiveKey(tenantId: number): Promise<boolean>
  /** One key of the tenant by its public id (revoked ones included). */
  getApiKey(tenantId: number, id: string): Promise<ApiKeyRecord | undefined>

  /**
   * The tenant's secret for `purpose`: the one stored, or `candidate` (random bytes from the
   * caller) stored now when there is none yet. Two processes racing both get the same secret.
   */
  tenantSecret(tenantId: number, purpose: SecretPurpose, candidate: Buffer, nowMs: number): Promise<Buffer>
  /** The stored secret, or undefined: checking a token never creates one. */
  findTenantSecret(tenantId: number, purpose: SecretPurpose): Promise<Buffer | undefined>

  /** The current configuration (version 0, empty, before the first apply). */
  getConfig(tenantId: number): Promise<ConfigVersion>
  /** Stores a new version when it differs from the current one; rollups follow the new meters. */
  applyConfig(tenantId: number, config: TenantConfig, keyId: string | null, nowMs: number): Promise<ConfigVersion & { changed: boolean }>

  /** Creates the customer, or updates the fields given (customers also appear with their first event). */
  putCustomer(tenantId: number, input: CustomerInput, nowMs: number): Promise<{ customer: Customer; created: boolean }>
  getCustomer(tenantId: number, id: string): Promise<Customer | undefined>

  /** Metered usage from rollups (and the few events not folded into them yet). */
  usage(tenantId: number, request: UsageRequest): Promise<UsageResult | { error: string }>
  /** The exact events behind a usage figure, oldest first, paged. */
  usageEvents(tenantId: number, request: UsageEventsRequest): Promise<Page<UsageEvent> | { error: string }>

  voidEvent(tenantId: number, id: string, reason: string, keyId: string | null, nowMs: number): Promise<CorrectionResult>
  amendEvent(tenantId: number, id: string, properties: Properties, reason: string, keyId: string | null, nowMs: number): Promise<CorrectionResult>

  /** Subscriptions, billing runs, invoices, payments and simulations. */
  readonly billing: BillingStore

  /** Grants, top-ups, reservations, the balance and the ledger. */
  readonly credits: CreditStore
  /** The webhook outbox: deliveries to enqueue, send, record and inspect. */
  readonly webhooks: WebhookStore
  /** Idempotency-Key claims of the money paths. */
  readonly idempotency: IdempotencyStore

  /** Whether the store can take writes (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Expected failures of credit operations, as values; the message names the field. */
export type CreditFailure = { ok: false; code: 'not_found' | 'invalid' | 'conflict'; message: string }
export type CreditResult<T> = { ok: true; value: T } | CreditFailure

export interface GrantRequest {
  id?: string
  credits: string
  priority?: number
  effectiveAtMs?: number
  expiresAtMs?: number
  expiresAfter?: string
  recurring?: string
  rollover?: { max: string }
  source?: string
}

export interface ReservationAnswer {
  id: string
  customerId: string
  granted: boolean
  available: string
  credits: string
  expiresAtMs: number
}

export interface CreditStore {
  balance(tenantId: number, customerId: string, nowMs: number): Promise<BalanceView>
  ledger(tenantId: number, customerId: string, query: { cursor?: string; limit: number }): Promise<Page<LedgerEntryView>>
  grant(tenantId: number, customerId: string, input: GrantRequest, nowMs: number): Promise<CreditResult<{ view: BalanceView; grantId: string; created: boolean }>>
  /** Takes what is left of a grant away (a `void` entry). */
  voidGrant(tenantId: number, customerId: string, grantId: string, reason: string | undefined, nowMs: number): Promise<CreditResult<BalanceView>>
  topUp(tenantId: number, customerId: string, input: { id?: string; credits: string; amount?: string; expiresAfter?: string }, nowMs: number):
    Promise<CreditResult<{ grantId: string; credits: string; amount: string; created: boolean; view: BalanceView }>>
  setAutoTopUp(tenantId: number, customerId: string, input: { threshold: string; credits: string; amount?: string }, nowMs: number):
    Promise<{ threshold: string; credits: string; amount?: string; view: BalanceView }>
  reserve(tenantId: number, input: { id?: string; customerId: string; credits: string; ttlMs?: number }, nowMs: number): Promise<CreditResult<{ answer: ReservationAnswer; created: boolean }>>
  release(tenantId: number, id: string, nowMs: number): Promise<CreditResult<{ id: string; released: boolean; available: string }>>
}
