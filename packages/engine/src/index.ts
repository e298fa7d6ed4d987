// @meterkit/engine: turns usage events into exact figures. Storage is a port with an
// embedded SQLite implementation beside it.
export * from './clock.js'
export * from './store/port.js'
export { isStoreUnavailable } from './store/unavailable.js'
export { SqliteStore, type SqliteStoreOptions, SCHEMA_VERSION, openDatabase } from './store/sqlite/index.js'
export * from './auth/keys.js'
export * from './auth/customer-token.js'
export { canonicalJson, jsonEqual } from './json.js'
export { ingestEvents, checkEvent, type IngestContext } from './ingest/ingest.js'
export * from './meters/index.js'
export * from './decimal.js'
export { DerivedState } from './store/sqlite/derived.js'
