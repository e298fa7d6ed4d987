// `meterkit restore FILE [--db FILE]`: puts a backup in place of the database. The collector must
// be stopped: restore takes the database's exclusive lock first and refuses while any process has
// it open. The database it replaces is kept beside it, never deleted.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { formatTimestamp } from '@meterkit/protocol'
import { syncFile } from './backup.js'
import { DATABASE_OPTIONS, databasePath, openStore } from './database.js'
import { inspectDatabaseFile } from './database-file.js'

const USAGE = 'usage: meterkit restore FILE [--db FILE]\n'

export async function restoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS }, allowPositionals: true })
  const [backup] = positionals
  if (backup === undefined || positionals.length > 1) {
    process.stderr.write(USAGE)
    return 2
  }
  const target = databasePath(values)
  if (!existsSync(backup)) throw new Error(`no backup at ${backup}`)
  if (resolve(backup) === resolve(target)) throw new Error('the backup FILE is the database itself')
  const report = inspectDatabaseFile(backup)
  if (report.integrity !== 'ok') throw new Error(`${backup} fails its integrity check (${report.integrity}); nothing was changed`)

  let kept: string | undefined
  if (existsSync(target)) {
    releaseExclusively(target)
    kept = `${target}.before-restore-${formatTimestamp(Date.now()).replace(/[:.]/g, '-')}`
    renameSync(target, kept)
    // The log was checkpointed into the database and emptied above: nothing in these is lost.
    rmSync(`${target}-wal`, { force: true })
    rmSync(`${target}-shm`, { force: true })
  }
  // Restoring onto a new machine: the database's folder may not exist yet.
  mkdirSync(dirname(resolve(target)), { recursive: true })
  const incoming = `${target}.restoring`
  copyFileSync(backup, incoming)
  syncFile(incoming)
  renameSync(incoming, target)
  syncFile(dirname(resolve(target)))
  // Opening migrates a backup from an older release to this one's schema, as a start would.
  const store = openStore(values)
  await store.close()
  process.stdout.write(
    `restored ${backup} to ${target}: ${report.events} events, schema version ${report.schemaVersion}` +
      `${kept === undefined ? '' : `; the database it replaced is kept as ${kept}`}\n`,
  )
  return 0
}

/**
 * Takes the database's exclusive lock, which no other process can hold beside it (a running
 * collector keeps a shared one), checkpoints the write-ahead log into the file, and lets go.
 */
function releaseExclusively(path: string): void {
  const db = new Database(path, { timeout: 200 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE; COMMIT')
    db.pragma('wal_checkpoint(TRUNCATE)')
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`${path} is open in another process (a running collector?): stop it before restoring; nothing was changed`)
    }
    throw err
  } finally {
    db.close()
  }
}
