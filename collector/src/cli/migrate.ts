// `meterkit migrate [--check] [--store URL | --db FILE]`: what an upgrade does to the database schema. With
// --check it only reports (the database is opened read-only); without, it applies the migrations
// a start would apply. A database newer than this binary is refused either way.
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { MIGRATION_SUMMARIES, POSTGRES_SCHEMA_VERSION, PostgresStore, SCHEMA_VERSION, openDatabase, openPool, postgresSchemaVersion, schemaStatus } from '@meterkit/engine'
import { DATABASE_OPTIONS, openSqliteStore, storeUrl } from './database.js'

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS, check: { type: 'boolean' } } })
  const url = storeUrl(values)
  if (url.kind === 'postgres') return migratePostgres(url.url, url.display, values.check === true)
  const path = url.path
  if (!existsSync(path)) {
    process.stdout.write(`no database at ${path}: a start creates one at schema version ${SCHEMA_VERSION} (${MIGRATION_SUMMARIES.length} migrations)\n`)
    return 0
  }
  const db = openDatabase(path, { readonly: true })
  let status
  try {
    status = schemaStatus(db)
  } finally {
    db.close()
  }
  process.stdout.write(`database ${path}: schema version ${status.version}; this meterkit: schema version ${status.target}\n`)
  if (status.pending.length === 0) {
    process.stdout.write('up to date: nothing to migrate\n')
    return 0
  }
  const verb = values.check ? 'would apply' : 'applying'
  process.stdout.write(`${verb} ${status.pending.length} migration${status.pending.length === 1 ? '' : 's'}, in one transaction:\n`)
  for (const m of status.pending) process.stdout.write(`  ${m.version}: ${m.summary}\n`)
  if (values.check) {
    process.stdout.write('take a backup first (meterkit backup FILE): a database once migrated is refused by older releases\n')
    return 0
  }
  const store = openSqliteStore(path)
  await store.close()
  process.stdout.write(`migrated to schema version ${SCHEMA_VERSION}\n`)
  return 0
}

async function migratePostgres(url: string, display: string, check: boolean): Promise<number> {
  const pool = openPool(url, { max: 1 })
  let version: number
  try {
    const client = await pool.connect()
    try {
      version = await postgresSchemaVersion(client)
    } finally {
      client.release()
    }
  } finally {
    await pool.end()
  }
  process.stdout.write(`database ${display}: schema version ${version}; this meterkit: schema version ${POSTGRES_SCHEMA_VERSION}\n`)
  if (version > POSTGRES_SCHEMA_VERSION) throw new Error(`the database is at schema version ${version}, newer than this meterkit's ${POSTGRES_SCHEMA_VERSION}: upgrade meterkit`)
  if (version === POSTGRES_SCHEMA_VERSION) {
    process.stdout.write('up to date: nothing to migrate\n')
    return 0
  }
  const pending = POSTGRES_SCHEMA_VERSION - version
  process.stdout.write(`${check ? 'would apply' : 'applying'} ${pending} migration${pending === 1 ? '' : 's'} (versions ${version + 1}–${POSTGRES_SCHEMA_VERSION}), each in its own transaction under the migration lock\n`)
  if (check) {
    process.stdout.write('take a backup first (meterkit backup FILE --store URL): a database once migrated is refused by older releases\n')
    return 0
  }
  const store = await PostgresStore.open(url, { foldIntervalMs: 0 })
  await store.close()
  process.stdout.write(`migrated to schema version ${POSTGRES_SCHEMA_VERSION}\n`)
  return 0
}
