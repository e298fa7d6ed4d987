// `meterkit restore FILE [--db FILE]`: puts a backup in place of the database. The collector must
// be stopped: restore takes the database's exclusive lock first and refuses while any process has
// it open. The database it replaces is kept beside it, never deleted.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { formatTimestamp } from '@meterkit/protocol'
import { PostgresStore } from '@meterkit/engine'
import { syncFile } from './backup.js'
import { spawnSync } from 'node:child_process'
import { DATABASE_OPTIONS, openSqliteStore, storeUrl } from './database.js'
import { inspectDatabaseFile } from './database-file.js'

const USAGE = 'usage: meterkit restore FILE [--store URL | --db FILE]\n'

export async function restoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS }, allowPositionals: true })
  const [backup] = positionals
  if (backup === undefined || positionals.length > 1) {
    process.stderr.write(USAGE)
    return 2
  }
  const url = storeUrl(values)
  if (url.kind === 'postgres') return restorePostgres(url.url, url.display, backup)
  const target = url.path
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
  const store = openSqliteStore(target)
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

/**
 * A pg_dump backup put in place of a PostgreSQL store's tables, in one transaction (the
 * collectors stopped); opening the store then migrates it to this release's schema.
 */
async function restorePostgres(url: string, display: string, backup: string): Promise<number> {
  if (!existsSync(backup)) throw new Error(`no backup at ${backup}`)
  const run = spawnSync('pg_restore', ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--dbname', url, backup], { encoding: 'utf8' })
  if (run.error !== undefined) throw new Error(`restore to ${display} needs pg_restore (PostgreSQL's client tools) on the PATH: ${run.error.message}`)
  if (run.status !== 0) throw new Error(`pg_restore of ${backup} into ${display} failed, nothing was changed: ${run.stderr.trim()}`)
  const store = await PostgresStore.open(url, { foldIntervalMs: 0 })
  await store.close()
  process.stdout.write(`restored ${backup} to ${display}\n`)
  return 0
}
