#!/usr/bin/env node
// The `meterkit` CLI. Runs in this process (no wrapper), so signals reach the server itself.
import { main } from '../dist/cli/main.js'

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code
  },
  (err) => {
    console.error(`meterkit: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
