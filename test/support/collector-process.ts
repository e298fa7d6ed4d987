// A real `meterkit start` process on a database file, for tests about processes and crashes.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CLI = join(ROOT, 'collector/bin/meterkit.js')
export const ADMIN_KEY = 'mk_sec_test_admin_key_000001'

export function tempDir(prefix = 'meterkit-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface CollectorProcess {
  url: string
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/** `dbPath`: a SQLite file, or a postgres:// URL (the store several collectors may share). */
export async function startCollector(dbPath: string, args: string[] = []): Promise<CollectorProcess> {
  const store = dbPath.startsWith('postgres://') ? ['--store', dbPath] : ['--db', dbPath]
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...store, '--admin-key', ADMIN_KEY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (c) => (out += c))
  child.stderr!.on('data', (c) => (out += c))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    }
    child.stdout!.on('data', onData)
    void exited.then((code) => reject(new Error(`collector exited (${code}) before listening:\n${out}`)))
  })
  return { url, child, output: () => out, exited }
}

export function postEvents(url: string, events: unknown[], key = ADMIN_KEY) {
  return fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  })
}
