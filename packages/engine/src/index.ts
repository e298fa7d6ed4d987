// @meterkit/engine: turns usage events into exact figures. Storage is a port with an
// embedded SQLite implementation beside it.
export * from './clock.js'
export * from './store/port.js'
export { isStoreUnavailable, StoreUnavailableError } from './store/unavailable.js'
export { parseStoreUrl, StoreUrlError, type StoreUrl } from './store/store-url.js'
export * from './store/postgres/index.js'
export {
  SqliteStore,
  type SqliteStoreOptions,
  SCHEMA_VERSION,
  MIGRATION_SUMMARIES,
  SchemaTooNewError,
  type SchemaStatus,
  schemaStatus,
  openDatabase,
} from './store/sqlite/index.js'
export * from './auth/keys.js'
export * from './auth/scopes.js'
export * from './auth/customer-token.js'
export { canonicalJson, jsonEqual } from './json.js'
export { ingestEvents, checkEvent, type IngestContext, type IngestSink } from './ingest/ingest.js'
export * from './meters/index.js'
export * from './decimal.js'
export { Engine } from './engine.js'
export { ROLLUP_FOLD_PASS, foldRollups, recomputeBucket, followConfig, verifyRollups, type RollupAudit } from './meters/fold.js'
export * from './rating/index.js'
export * from './billing/index.js'
export { DEFAULT_GRACE_MS, gracePeriodMs, planWithMeters } from './billing/plans.js'
export type { Storage, Tx, TransactionMode, Awaitable } from './store/storage.js'
export * from './webhooks/index.js'
export { PostgresStore, type PostgresStoreOptions, FOLD_LOCK } from './store/postgres/postgres-store.js'
export { openStore, DEFAULT_STORE_URL, type AnyStore, type OpenStoreOptions } from './store/open-store.js'
export * from './reporting/index.js'
