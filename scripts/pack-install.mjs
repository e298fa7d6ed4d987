// `node scripts/pack-install.mjs DIR [PACKAGE...]`: packs the collector (and the packages it
// needs) into DIR/tarballs and writes DIR/package.json depending on PACKAGE (default
// @meterkit/collector), with overrides that point the packages' version ranges at the tarballs.
// `npm install` in DIR then installs Meterkit as from the registry. The Dockerfile builds its
// image this way, and test/e2e/install.test.ts checks the same path.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pack } from './check-packages.mjs'

/** The packages a collector install needs, and the Node SDK. */
export const INSTALLABLE = {
  '@meterkit/protocol': 'packages/protocol',
  '@meterkit/core': 'packages/core',
  '@meterkit/node': 'packages/node',
  '@meterkit/webhooks': 'packages/webhooks',
  '@meterkit/engine': 'packages/engine',
  '@meterkit/collector': 'collector',
}

export function packForInstall(dir, wanted = ['@meterkit/collector']) {
  const tarballs = join(dir, 'tarballs')
  mkdirSync(tarballs, { recursive: true })
  const overrides = {}
  for (const [name, folder] of Object.entries(INSTALLABLE)) overrides[name] = `file:${relative(dir, pack(folder, tarballs))}`
  const dependencies = Object.fromEntries(wanted.map((name) => [name, overrides[name]]))
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'meterkit-install', private: true, dependencies, overrides }, null, 2)}\n`)
  return { dependencies, overrides }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, ...wanted] = process.argv.slice(2)
  if (dir === undefined) {
    console.error('usage: node scripts/pack-install.mjs DIR [PACKAGE...]')
    process.exit(2)
  }
  const unknown = wanted.filter((w) => !(w in INSTALLABLE))
  if (unknown.length > 0) throw new Error(`not installable: ${unknown.join(', ')}`)
  packForInstall(resolve(dir), wanted.length > 0 ? wanted : undefined)
}
