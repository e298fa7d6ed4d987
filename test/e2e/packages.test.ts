// What users install works: each package, linked into a fresh project, is imported by plain
// Node through its `exports` (the built dist/, not the source the tests use).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, tempDir } from '../support/collector-process.js'

const PACKAGES: Record<string, { dir: string; exports: string[] }> = {
  '@meterkit/protocol': { dir: 'packages/protocol', exports: ['validateEvent', 'configSchema', 'MAX_EVENT_BYTES', 'parseRfc3339'] },
  '@meterkit/core': { dir: 'packages/core', exports: ['Meterkit', 'MeterkitValidationError'] },
  '@meterkit/node': { dir: 'packages/node', exports: ['Meterkit', 'DiskBuffer', 'shutdownOnSignals'] },
  '@meterkit/browser': { dir: 'packages/browser', exports: ['Meterkit', 'MeterkitRequestError'] },
  '@meterkit/edge': { dir: 'packages/edge', exports: ['Meterkit', 'runtimeWaitUntil'] },
  '@meterkit/webhooks': { dir: 'packages/webhooks', exports: ['verifyWebhook', 'signWebhook', 'webhookKey', 'WEBHOOK_EVENT_TYPES'] },
  '@meterkit/engine': { dir: 'packages/engine', exports: ['SqliteStore', 'ingestEvents', 'DecimalSum', 'verifyWebhook'] },
  '@meterkit/collector': { dir: 'collector', exports: ['createApp', 'startServer'] },
}

describe('packages as shipped', () => {
  it('resolve through their exports under plain Node', () => {
    const project = tempDir('meterkit-consumer-')
    mkdirSync(join(project, 'node_modules/@meterkit'), { recursive: true })
    for (const [name, p] of Object.entries(PACKAGES)) symlinkSync(join(ROOT, p.dir), join(project, 'node_modules', name), 'dir')
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }))
    const checks = Object.entries(PACKAGES).map(([name, p]) =>
      `{ const m = await import('${name}'); for (const e of ${JSON.stringify(p.exports)}) if (m[e] === undefined) throw new Error('${name} lacks ' + e); }`)
    writeFileSync(join(project, 'check.mjs'), `${checks.join('\n')}\nconsole.log('ok')\n`)
    const run = spawnSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toBe('ok')
  })

  it('the SDKs also resolve through require() (their CommonJS build)', () => {
    const project = tempDir('meterkit-consumer-cjs-')
    mkdirSync(join(project, 'node_modules/@meterkit'), { recursive: true })
    for (const [name, p] of Object.entries(PACKAGES)) symlinkSync(join(ROOT, p.dir), join(project, 'node_modules', name), 'dir')
    const sdks = Object.entries(PACKAGES).filter(([name]) => !['@meterkit/engine', '@meterkit/collector'].includes(name))
    const checks = sdks.map(([name, p]) =>
      `{ const m = require('${name}'); for (const e of ${JSON.stringify(p.exports)}) if (m[e] === undefined) throw new Error('${name} lacks ' + e); }`)
    writeFileSync(join(project, 'check.cjs'), `${checks.join('\n')}\nconsole.log(require.resolve('@meterkit/core'))\n`)
    const run = spawnSync(process.execPath, ['check.cjs'], { cwd: project, encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toMatch(/packages\/core\/dist\/cjs\/index\.js$/)
  })

  it('publish only built files, with types', () => {
    type Target = { types: string; default: string }
    for (const p of Object.values(PACKAGES)) {
      const manifest = JSON.parse(readFileSync(join(ROOT, p.dir, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string | Target>>; files: string[] }
      const root = manifest.exports['.']!
      // ESM-only packages name their files directly; dual ones under import and require.
      for (const target of (root.import === undefined ? [root] : [root.import, root.require]) as Target[]) {
        expect(target.default).toMatch(/^\.\/dist\//)
        expect(target.types).toMatch(/^\.\/dist\/.*\.d\.ts$/)
      }
      expect(manifest.files).toContain('dist')
    }
  })
})
