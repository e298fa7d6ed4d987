// Opening a store from its URL (`--store`, `MK_STORE`): sqlite:PATH or postgres://….
import { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js'
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js'
import { parseStoreUrl } from './store-url.js'

export type AnyStore = SqliteStore | PostgresStore

export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions
  postgres?: PostgresStoreOptions
}

/** The default store: the embedded database in the working folder. */
export const DEFAULT_STORE_URL = 'sqlite:./meterkit.db'

/** Opens (and on PostgreSQL migrates) the store a URL names; throws a StoreUrlError that names the rule for a bad URL. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<AnyStore> {
  const parsed = parseStoreUrl(url)
  if (parsed.kind === 'sqlite') return new SqliteStore(parsed.path, options.sqlite)
  return PostgresStore.open(parsed.url, options.postgres)
}
