export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'
export { SCHEMA_VERSION } from './migrations.js'
export { openDatabase } from './connection.js'
