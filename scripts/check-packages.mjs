// `pnpm check:packages`: packs every publishable package as `pnpm publish` would (workspace
// ranges replaced by versions) and checks each tarball with publint (the manifest, files and
// exports) and @arethetypeswrong/cli (types as TypeScript resolves them, from ESM and CJS).
// The SDKs ship ESM and CJS (profile node16, node10 included); the engine and the collector are
// ESM-only servers (profile esm-only). Exits non-zero on any problem.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'node_modules/.bin')

export const PUBLISHED = [
  { dir: 'packages/protocol', profile: 'strict' },
  { dir: 'packages/core', profile: 'strict' },
  { dir: 'packages/node', profile: 'strict' },
  { dir: 'packages/browser', profile: 'strict' },
  { dir: 'packages/edge', profile: 'strict' },
  { dir: 'packages/webhooks', profile: 'strict' },
  { dir: 'packages/engine', profile: 'esm-only' },
  { dir: 'collector', profile: 'esm-only' },
]

/** Packs one package folder into `dest`; answers the tarball's path. */
export function pack(dir, dest) {
  const before = new Set(readdirSync(dest))
  execFileSync('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', dest], { cwd: join(ROOT, dir), stdio: ['ignore', 'pipe', 'pipe'] })
  const made = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f))
  if (made.length !== 1) throw new Error(`packing ${dir} made ${made.length} tarballs`)
  return join(dest, made[0])
}

function run(bin, args) {
  const res = spawnSync(join(BIN, bin), args, { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } })
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}`.trim() }
}

export function checkPackages(dest = mkdtempSync(join(tmpdir(), 'meterkit-pack-'))) {
  const results = []
  for (const p of PUBLISHED) {
    const tarball = pack(p.dir, dest)
    const publint = run('publint', ['run', '--strict', tarball])
    const attw = run('attw', [tarball, '--profile', p.profile, '--format', 'ascii', '--no-emoji', '--no-color'])
    results.push({ dir: p.dir, tarball, ok: publint.ok && attw.ok, publint, attw })
  }
  return results
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = checkPackages()
  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.dir} (${r.tarball})`)
    if (!r.publint.ok) console.log(r.publint.output)
    if (!r.attw.ok) console.log(r.attw.output)
  }
  process.exitCode = results.every((r) => r.ok) ? 0 : 1
}
