// Starts a real `meterkit start` process on a fresh database for a benchmark or an e2e test.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
export const CLI = join(ROOT, 'collector/bin/meterkit.js')

export async function startCollector({ dbPath, adminKey = 'mk_sec_bench_admin_key_0001', port = 0, env = {}, args = [] } = {}) {
  dbPath ??= join(mkdtempSync(join(tmpdir(), 'meterkit-bench-')), 'meterkit.db')
  // A postgres:// URL is a shared store (several collectors may start on it).
  const store = dbPath.startsWith('postgres://') ? ['--store', dbPath] : ['--db', dbPath]
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), ...store, '--admin-key', adminKey, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Access logs at info would fill the bench's terminal; MK_LOG_LEVEL=info measures them.
    env: { MK_LOG_LEVEL: 'warn', ...process.env, ...env },
  })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`collector exited with ${code} before listening`)))
  })
  return {
    url,
    dbPath,
    adminKey,
    child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill('SIGTERM')
    }),
  }
}
