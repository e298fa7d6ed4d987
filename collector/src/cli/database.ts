// Where CLI commands find their database: every command that opens one goes through here, so a
// new way to name a store (a URL) is added in one place.
import { SqliteStore, type SqliteStoreOptions } from '@meterkit/engine'

/** The parseArgs options of a command that opens a database. */
export const DATABASE_OPTIONS = { db: { type: 'string' } } as const

/** The database file named by `--db`, else `MK_DB`, else `./meterkit.db`. */
export function databasePath(values: { db?: string | undefined }): string {
  return values.db ?? process.env.MK_DB ?? './meterkit.db'
}

/** Opens (and migrates) the store named on the command line. */
export function openStore(values: { db?: string | undefined }, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(databasePath(values), options)
}
