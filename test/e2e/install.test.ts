// Installed as users install it: the packed tarballs go into an empty folder with plain npm
// (their other dependencies come from the registry), `npx meterkit start` runs the collector from
// there, and the Node SDK from its tarball sends events to it, from ESM and from CommonJS.
// Slow (npm compiles better-sqlite3); MK_SKIP_INSTALL_TEST=1 skips it on a laptop without a network.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../support/collector-process.js'
// @ts-expect-error: a plain .mjs script, the one the Dockerfile runs
import { packForInstall } from '../../scripts/pack-install.mjs'

const KEY = 'mk_sec_installed_admin_key_0001'

function startInstalled(cwd: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  // Its own process group: npx and the server it runs are stopped together.
  const child = spawn('npx', ['meterkit', 'start', '--port', '0', '--db', './data/meterkit.db', '--admin-key', KEY], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (c) => (out += c))
  child.stderr!.on('data', (c) => (out += c))
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({ url: m[1]!, child, output: () => out })
    })
    child.once('exit', (code) => reject(new Error(`npx meterkit start exited (${code}):\n${out}`)))
  })
}

describe.skipIf(process.env.MK_SKIP_INSTALL_TEST === '1')('installed from tarballs with npm', () => {
  it('npx meterkit start runs, and the Node SDK from its tarball sends to it (ESM and CJS)', async () => {
    const project = tempDir('meterkit-installed-')
    // The tarballs name each other by version (as published); overrides point those at the files.
    packForInstall(project, ['@meterkit/collector', '@meterkit/node'])
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], timeout: 540_000 })
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/@meterkit/collector/package.json'), 'utf8')) as { dependencies: Record<string, string> }
    expect(installed.dependencies['@meterkit/engine']).toMatch(/^\^\d/) // versions, not workspace: links

    const collector = await startInstalled(project)
    try {
      writeFileSync(join(project, 'send.mjs'), `
        import { Meterkit } from '@meterkit/node'
        const mk = new Meterkit({ endpoint: process.argv[2], apiKey: '${KEY}' })
        for (let i = 0; i < 25; i++) mk.track({ event: 'render.completed', customerId: 'cus_1', id: 'esm-' + i, properties: { gpuSeconds: 2 } })
        await mk.shutdown()
        console.log(JSON.stringify(mk.stats()))
      `)
      writeFileSync(join(project, 'send.cjs'), `
        const { Meterkit } = require('@meterkit/node')
        const mk = new Meterkit({ endpoint: process.argv[2], apiKey: '${KEY}' })
        for (let i = 0; i < 25; i++) mk.track({ event: 'render.completed', customerId: 'cus_1', id: 'cjs-' + i })
        mk.shutdown().then(() => console.log(JSON.stringify(mk.stats())))
      `)
      for (const script of ['send.mjs', 'send.cjs']) {
        const stats = JSON.parse(execFileSync(process.execPath, [script, collector.url], { cwd: project, encoding: 'utf8' })) as Record<string, number>
        expect(stats, script).toMatchObject({ tracked: 25, acknowledged: 25, rejected: 0, dropped: 0 })
      }
      const res = await fetch(`${collector.url}/v1/events?limit=100`, { headers: { authorization: `Bearer ${KEY}` } })
      const body = (await res.json()) as { data: { id: string }[] }
      expect(body.data.map((e) => e.id).sort()).toEqual([...Array.from({ length: 25 }, (_, i) => `cjs-${i}`), ...Array.from({ length: 25 }, (_, i) => `esm-${i}`)].sort())
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    } finally {
      process.kill(-collector.child.pid!, 'SIGTERM')
      await new Promise((resolve) => collector.child.once('exit', resolve))
    }
    expect(collector.output()).toContain('SIGTERM received, draining')
  }, 600_000)
})
