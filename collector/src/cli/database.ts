// Where CLI commands find their store: every command that opens one goes through here.
// `--store URL` (or MK_STORE): sqlite:PATH or postgres://user@host:port/db; `--db FILE` (or
// MK_DB) is the same as `--store sqlite:FILE`; the default is sqlite:./meterkit.db.
import { type AnyStore, DEFAULT_STORE_URL, type OpenStoreOptions, SqliteStore, type SqliteStoreOptions, type StoreUrl, openStore as openStoreUrl, parseStoreUrl } from '@meterkit/engine'

/** The parseArgs options of a command that opens a store. */
export const DATABASE_OPTIONS = { db: { type: 'string' }, store: { type: 'string' } } as const

type StoreValues = { db?: string | undefined; store?: string | undefined }

/** The store named by `--store`, else `--db`, else MK_STORE, else MK_DB, else the default. */
export function storeUrl(values: StoreValues): StoreUrl {
  if (values.store !== undefined && values.db !== undefined) throw new Error('--store and --db name the same thing: give one of them')
  const text = values.store ?? (values.db !== undefined ? `sqlite:${values.db}` : undefined)
    ?? process.env.MK_STORE ?? (process.env.MK_DB !== undefined ? `sqlite:${process.env.MK_DB}` : DEFAULT_STORE_URL)
  return parseStoreUrl(text)
}

/** How a store is named in messages: the file, or the PostgreSQL URL without its password. */
export function describeStore(url: StoreUrl): string {
  return url.kind === 'sqlite' ? url.path : url.display
}

/** The SQLite file of a command that works on files (backup, restore, migrate, the start's folder); undefined for PostgreSQL. */
export function databasePath(values: StoreValues): string | undefined {
  const url = storeUrl(values)
  return url.kind === 'sqlite' ? url.path : undefined
}

/** Opens (and migrates) the store named on the command line. */
export function openStore(values: StoreValues, options: OpenStoreOptions = {}): Promise<AnyStore> {
  const url = storeUrl(values)
  // One-shot commands fold nothing in the background: the collectors do.
  return openStoreUrl(url.kind === 'sqlite' ? `sqlite:${url.path}` : url.url, { ...options, postgres: { foldIntervalMs: 0, ...options.postgres } })
}

/** Opens the SQLite store of a file command. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options)
}
