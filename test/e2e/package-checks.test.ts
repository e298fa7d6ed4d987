// `pnpm check:packages` as a test: every publishable tarball passes publint (strict) and
// @arethetypeswrong/cli (SDKs: ESM and CJS under every resolution; servers: ESM-only).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../support/collector-process.js'
// @ts-expect-error: a plain .mjs script, run by `pnpm check:packages` too
import { checkPackages } from '../../scripts/check-packages.mjs'

interface Result { dir: string; tarball: string; ok: boolean; publint: { output: string }; attw: { output: string } }

describe('packed tarballs', () => {
  it('pass publint and arethetypeswrong', () => {
    const results = checkPackages() as Result[]
    expect(results.map((r) => r.dir)).toHaveLength(8)
    for (const r of results) {
      expect(r.ok, `${r.dir}\n${r.publint.output}\n${r.attw.output}`).toBe(true)
      // Each tarball carries the licence text its manifest names.
      expect(execFileSync('tar', ['tzf', r.tarball], { encoding: 'utf8' }).split('\n'), r.dir).toContain('package/LICENSE')
      expect(readFileSync(join(ROOT, r.dir, 'LICENSE'), 'utf8'), `${r.dir}/LICENSE is the root LICENSE`).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'))
    }
    // The SDKs answer require() with their CommonJS build, which loads under plain Node.
    const sdk = results.find((r) => r.dir === 'packages/node')!
    const files = execFileSync('tar', ['tzf', sdk.tarball], { encoding: 'utf8' }).split('\n')
    expect(files).toContain('package/dist/cjs/index.js')
    expect(files).toContain('package/dist/cjs/package.json')
    expect(files.some((f) => f.endsWith('.tsbuildinfo') || f.includes('.test.'))).toBe(false)
  }, 180_000)

})
