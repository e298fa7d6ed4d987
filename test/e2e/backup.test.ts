// Backups and upgrades: a backup taken while a collector is under load opens, verifies clean and
// holds every event acknowledged before it started; restore refuses a running collector's
// database; a binary older than the database refuses it; `migrate --check` says what it would do.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { CLI, postEvents, startCollector, tempDir } from '../support/collector-process.js'

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
}

/** The CLI in its own process, awaited without blocking the load running in this one. */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.once('exit', (status) => resolve({ status, stdout, stderr }))
  })
}

function eventIds(dbPath: string): Set<string> {
  const db = new Database(dbPath, { readonly: true })
  try {
    return new Set(db.prepare('SELECT id FROM events').pluck().all() as string[])
  } finally {
    db.close()
  }
}

function batch(prefix: string, size: number) {
  const ts = new Date().toISOString()
  return Array.from({ length: size }, (_, i) => ({
    id: `${prefix}-${i}`,
    event: 'render.completed',
    customerId: `cus_${i % 13}`,
    timestamp: ts,
    properties: { gpuSeconds: (i % 7) + 0.25 },
  }))
}

describe('backup and restore', () => {
  it('a backup taken under load verifies clean and holds every event acknowledged before it started', async () => {
    const dir = tempDir('meterkit-backup-')
    const dbPath = join(dir, 'meterkit.db')
    const configPath = join(dir, 'config.json')
    writeFileSync(configPath, JSON.stringify({ meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }] }))
    const collector = await startCollector(dbPath, ['--config', configPath])
    const acknowledged = new Set<string>()
    let stop = false
    let n = 0
    const senders = Array.from({ length: 3 }, async (_, s) => {
      while (!stop) {
        const res = await postEvents(collector.url, batch(`s${s}b${n++}`, 250)).catch(() => undefined)
        if (res === undefined) return // killed
        if (res.status !== 200) continue
        const body = (await res.json()) as { results: { id: string; status: string }[] }
        for (const r of body.results) if (r.status === 'accepted' || r.status === 'duplicate') acknowledged.add(r.id)
      }
    })
    try {
      while (acknowledged.size < 5000) await new Promise((r) => setImmediate(r))
      // Everything acknowledged up to this instant must be in the copy; the load goes on meanwhile.
      const before = new Set(acknowledged)
      const backupPath = join(dir, 'backup.db')
      const atStart = acknowledged.size
      const backup = await cliAsync(['backup', backupPath, '--db', dbPath])
      expect(backup.stderr).toBe('')
      expect(backup.status).toBe(0)
      expect(backup.stdout).toMatch(/^backup .*backup\.db: \d+ events, schema version \d+/)
      // The load really ran through the backup.
      expect(acknowledged.size).toBeGreaterThan(atStart)

      const inCopy = eventIds(backupPath)
      const missing = [...before].filter((id) => !inCopy.has(id))
      expect(missing).toEqual([])
      expect(inCopy.size).toBeGreaterThanOrEqual(before.size)

      const verify = cli(['verify', '--db', backupPath])
      expect(verify.stdout).toContain('no difference')
      expect(verify.status).toBe(0)

      // Restoring over a database a collector has open is refused, and changes nothing.
      const refused = cli(['restore', backupPath, '--db', dbPath])
      expect(refused.status).toBe(1)
      expect(refused.stderr).toContain('is open in another process')
      expect(existsSync(dbPath)).toBe(true)
      expect(readdirSync(dir).some((f) => f.includes('before-restore'))).toBe(false)
    } finally {
      collector.child.kill('SIGKILL')
      stop = true
      await Promise.all(senders)
      await collector.exited
    }

    // After a kill -9 the database is free: restore puts the copy in place and keeps the old one.
    const restored = cli(['restore', join(dir, 'backup.db'), '--db', dbPath])
    expect(restored.stderr).toBe('')
    expect(restored.status).toBe(0)
    const kept = readdirSync(dir).find((f) => f.startsWith('meterkit.db.before-restore-'))
    expect(kept).toBeDefined()
    expect(eventIds(dbPath)).toEqual(eventIds(join(dir, 'backup.db')))
    // The replaced database held everything acknowledged until the kill (its log checkpointed in).
    const old = eventIds(join(dir, kept!))
    expect([...acknowledged].filter((id) => !old.has(id))).toEqual([])

    const again = await startCollector(dbPath)
    const res = await fetch(`${again.url}/readyz`)
    expect(res.status).toBe(200)
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)
  })

  it('a backup never overwrites a file, and restore refuses a damaged file', () => {
    const dir = tempDir('meterkit-backup-')
    const dbPath = join(dir, 'meterkit.db')
    expect(cli(['tenants', 'create', 'acme', '--db', dbPath]).status).toBe(0)
    const target = join(dir, 'copy.db')
    writeFileSync(target, 'precious')
    const res = cli(['backup', target, '--db', dbPath])
    expect(res.status).toBe(1)
    expect(res.stderr).toContain('exists: backups never overwrite a file')
    expect(readFileSync(target, 'utf8')).toBe('precious')
    const nowhere = cli(['backup', join(dir, 'no-such-folder', 'b.db'), '--db', dbPath])
    expect(nowhere.status).toBe(1)
    expect(nowhere.stderr).toContain('no-such-folder does not exist')

    // Onto a new machine: restore makes the database's folder.
    const good = join(dir, 'good.db')
    expect(cli(['backup', good, '--db', dbPath]).status).toBe(0)
    const elsewhere = join(dir, 'new-host', 'data', 'meterkit.db')
    const fresh = cli(['restore', good, '--db', elsewhere])
    expect(fresh.stderr).toBe('')
    expect(fresh.stdout).toContain(`restored ${good} to ${elsewhere}: 0 events`)
    expect(cli(['verify', '--db', elsewhere]).status).toBe(0)

    const damaged = join(dir, 'damaged.db')
    writeFileSync(damaged, Buffer.alloc(8192, 7))
    const restore = cli(['restore', damaged, '--db', dbPath])
    expect(restore.status).toBe(1)
    expect(eventIds(dbPath).size).toBe(0)
    expect(readdirSync(dir).some((f) => f.includes('before-restore'))).toBe(false)
  })
})

describe('schema version', () => {
  it('migrate --check says what an upgrade would apply, and migrate applies it once', () => {
    const dir = tempDir('meterkit-migrate-')
    const dbPath = join(dir, 'meterkit.db')
    expect(cli(['tenants', 'create', 'acme', '--db', dbPath]).status).toBe(0)
    // The database as the release before the schema history left it.
    const db = new Database(dbPath)
    const target = db.pragma('user_version', { simple: true }) as number
    db.exec('DROP TABLE schema_history')
    db.pragma(`user_version = ${target - 1}`)
    db.close()

    const check = cli(['migrate', '--check', '--db', dbPath])
    expect(check.status).toBe(0)
    expect(check.stdout).toContain(`schema version ${target - 1}; this meterkit: schema version ${target}`)
    expect(check.stdout).toContain(`would apply 1 migration`)
    expect(check.stdout).toContain(`${target}: the schema history table`)
    // --check changed nothing.
    const unchanged = new Database(dbPath, { readonly: true })
    expect(unchanged.pragma('user_version', { simple: true })).toBe(target - 1)
    unchanged.close()

    const apply = cli(['migrate', '--db', dbPath])
    expect(apply.status).toBe(0)
    expect(apply.stdout).toContain(`migrated to schema version ${target}`)
    const after = cli(['migrate', '--check', '--db', dbPath])
    expect(after.stdout).toContain('up to date')
    const migrated = new Database(dbPath, { readonly: true })
    const history = migrated.prepare('SELECT version, applied_at FROM schema_history ORDER BY version').all() as { version: number; applied_at: number | null }[]
    migrated.close()
    expect(history).toHaveLength(target)
    expect(history.slice(0, -1).every((h) => h.applied_at === null)).toBe(true)
    expect(history.at(-1)!.applied_at).toBeGreaterThan(0)
  })

  it('a binary older than the database refuses to start, with a clear message', () => {
    const dir = tempDir('meterkit-migrate-')
    const dbPath = join(dir, 'meterkit.db')
    expect(cli(['tenants', 'create', 'acme', '--db', dbPath]).status).toBe(0)
    const db = new Database(dbPath)
    const ours = db.pragma('user_version', { simple: true }) as number
    db.pragma(`user_version = ${ours + 3}`)
    db.close()
    for (const args of [['start', '--port', '0', '--db', dbPath], ['migrate', '--check', '--db', dbPath], ['verify', '--db', dbPath], ['backup', join(dir, 'b.db'), '--db', dbPath]]) {
      const res = cli(args)
      expect(res.status, args[0]).toBe(1)
      expect(res.stderr).toContain(`has schema version ${ours + 3}, newer than this meterkit understands (schema ${ours})`)
    }
    // Nothing was changed or written by the refusals.
    const still = new Database(dbPath, { readonly: true })
    expect(still.pragma('user_version', { simple: true })).toBe(ours + 3)
    still.close()
    expect(existsSync(join(dir, 'b.db'))).toBe(false)
  })
})
