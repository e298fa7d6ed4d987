export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'
export { MIGRATION_SUMMARIES, SCHEMA_VERSION, SchemaTooNewError, type SchemaStatus, schemaStatus } from './migrations.js'
export { openDatabase } from './connection.js'
