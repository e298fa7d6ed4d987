// `meterkit migrate [--check] [--db FILE]`: what an upgrade does to the database schema. With
// --check it only reports (the database is opened read-only); without, it applies the migrations
// a start would apply. A database newer than this binary is refused either way.
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { MIGRATION_SUMMARIES, SCHEMA_VERSION, openDatabase, schemaStatus } from '@meterkit/engine'
import { DATABASE_OPTIONS, databasePath, openStore } from './database.js'

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...DATABASE_OPTIONS, check: { type: 'boolean' } } })
  const path = databasePath(values)
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
  const store = openStore(values)
  await store.close()
  process.stdout.write(`migrated to schema version ${SCHEMA_VERSION}\n`)
  return 0
}
