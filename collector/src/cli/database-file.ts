// A look inside a database file without changing it: schema version, integrity, event count.
// Backup checks its copy with it, restore checks the file it is given.
import { openDatabase } from '@meterkit/engine'

export interface DatabaseFileReport {
  schemaVersion: number
  /** `ok`, or what SQLite's integrity check found. */
  integrity: string
  events: number
}

/** Throws SchemaTooNewError for a file written by a newer Meterkit. */
export function inspectDatabaseFile(path: string): DatabaseFileReport {
  const db = openDatabase(path, { readonly: true })
  try {
    const schemaVersion = db.pragma('user_version', { simple: true }) as number
    const problems = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check)
    const integrity = problems.length === 1 && problems[0] === 'ok' ? 'ok' : problems.slice(0, 5).join('; ')
    const hasEvents = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").pluck().get() === 1
    const events = hasEvents ? (db.prepare('SELECT count(*) FROM events').pluck().get() as number) : 0
    return { schemaVersion, integrity, events }
  } finally {
    db.close()
  }
}
