// `meterkit backup FILE [--db FILE]`: an online, consistent copy of the database while the
// collector runs. VACUUM INTO copies one read snapshot, so the copy holds exactly the commits
// made before it started, without stopping writers (the backup API would restart on each write).
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { DATABASE_OPTIONS, openSqliteStore, storeUrl } from './database.js'
import { inspectDatabaseFile } from './database-file.js'

const USAGE = 'usage: meterkit backup FILE [--store URL | --db FILE]\n'

export async function backupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS }, allowPositionals: true })
  const [target] = positionals
  if (target === undefined || positionals.length > 1) {
    process.stderr.write(USAGE)
    return 2
  }
  const url = storeUrl(values)
  if (url.kind === 'postgres') return backupPostgres(url.url, url.display, target)
  const source = url.path
  if (!existsSync(source)) throw new Error(`no database at ${source} (--db FILE names it)`)
  if (resolve(target) === resolve(source)) throw new Error('the backup FILE must not be the database itself')
  if (existsSync(target)) throw new Error(`${target} exists: backups never overwrite a file, choose a new name`)
  if (!existsSync(dirname(resolve(target)))) throw new Error(`${dirname(resolve(target))} does not exist: make the folder for the backup first`)

  // Written beside the target and renamed into place once complete and synced: a FILE that
  // exists is a whole backup.
  const partial = `${target}.partial`
  rmSync(partial, { force: true })
  const started = performance.now()
  const store = openSqliteStore(source)
  try {
    store.db.prepare('VACUUM INTO ?').run(partial)
  } catch (err) {
    rmSync(partial, { force: true })
    throw err
  } finally {
    await store.close()
  }
  syncFile(partial)
  const copy = inspectDatabaseFile(partial)
  if (copy.integrity !== 'ok') {
    rmSync(partial, { force: true })
    throw new Error(`the copy failed its integrity check (${copy.integrity}); the database itself may be damaged: run meterkit verify`)
  }
  renameSync(partial, target)
  syncFile(dirname(resolve(target)))
  const seconds = (performance.now() - started) / 1000
  const mib = statSync(target).size / 2 ** 20
  process.stdout.write(
    `backup ${target}: ${copy.events} events, schema version ${copy.schemaVersion}, ${mib.toFixed(1)} MiB in ${seconds.toFixed(2)} s\n` +
      'it holds every commit made before the backup started; integrity check ok\n',
  )
  return 0
}

/** fsync a file or a folder, so the bytes (or the rename) survive a crash of the machine. */
export function syncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * A PostgreSQL store is copied by pg_dump, in its custom format: one consistent snapshot (a
 * REPEATABLE READ transaction) while the collectors run, restored by `meterkit restore`.
 */
function backupPostgres(url: string, display: string, target: string): number {
  if (existsSync(target)) throw new Error(`${target} exists: backups never overwrite a file, choose a new name`)
  const partial = `${target}.partial`
  rmSync(partial, { force: true })
  const started = performance.now()
  const run = spawnSync('pg_dump', ['--format=custom', '--no-owner', '--file', partial, url], { encoding: 'utf8' })
  if (run.error !== undefined) throw new Error(`backup of ${display} needs pg_dump (PostgreSQL's client tools) on the PATH: ${run.error.message}`)
  if (run.status !== 0) {
    rmSync(partial, { force: true })
    throw new Error(`pg_dump of ${display} failed: ${run.stderr.trim()}`)
  }
  syncFile(partial)
  renameSync(partial, target)
  syncFile(dirname(resolve(target)))
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(`backup ${target}: pg_dump of ${display}, ${(statSync(target).size / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(2)} s\n` +
    'it holds every commit made before the backup started\n')
  return 0
}
