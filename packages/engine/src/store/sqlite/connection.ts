// Opens a Meterkit SQLite database: WAL, synchronous=FULL (a returned commit survives a crash of
// the process or the machine), a busy timeout for other processes, and the schema migrated.
import Database from 'better-sqlite3'
import { checkSchema, migrate } from './migrations.js'

export interface ConnectionOptions {
  /** How long a writer waits for another process's lock before failing, in ms. */
  busyTimeoutMs?: number
  readonly?: boolean
}

export function openDatabase(path: string, options: ConnectionOptions = {}): Database.Database {
  const db = new Database(path, { readonly: options.readonly ?? false })
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
  if (options.readonly) {
    // A reader refuses a newer schema too: it would misread what it does not know.
    try {
      checkSchema(db)
    } catch (err) {
      db.close()
      throw err
    }
    return db
  }
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  // Checkpoint in larger steps: pages rewritten by consecutive batches are copied back once.
  db.pragma('wal_autocheckpoint = 8192')
  db.pragma('cache_size = -65536')
  try {
    migrate(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}
