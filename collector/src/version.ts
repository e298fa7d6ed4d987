// The collector's release, from its package.json (the same file in a checkout and when installed).
import { createRequire } from 'node:module'

export const COLLECTOR_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
