// After `tsc -b tsconfig.cjs.json`: marks each SDK's dist/cjs as CommonJS, so Node and
// TypeScript read those .js and .d.ts files as `require` modules inside `"type": "module"` packages.
import { existsSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
for (const pkg of ['protocol', 'core', 'node', 'browser', 'edge', 'webhooks']) {
  const dir = join(root, 'packages', pkg, 'dist/cjs')
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run tsc -b tsconfig.cjs.json first`)
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n')
}
