// Runs the Python SDK's suite (python/tests, `python3 -m unittest`) as part of the repository's
// test command: one test per module, failing with unittest's output. It needs the built collector
// (the install builds it). Where python3 is missing the modules skip with a message; in CI
// nothing may skip.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const PYTHON_DIR = join(import.meta.dirname, '../../python')
const EXAMPLE_DIR = join(import.meta.dirname, '../../examples/render-worker-python')
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' })
const hasPython = python.status === 0
const modules = readdirSync(join(PYTHON_DIR, 'tests'))
  .filter((f) => /^test_.*\.py$/.test(f))
  .map((f) => f.slice(0, -3))
  .sort()

/**
 * Other interpreters to hold the package's `requires-python = ">=3.9"` to: the oldest supported
 * one and the newest one found (on PATH as python3.N, or installed by pyenv).
 */
function otherPythons(): { version: string; path: string }[] {
  const found = new Map<string, string>()
  const pyenv = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions')
  for (let minor = 9; minor <= 14; minor++) {
    const candidates = [`python3.${minor}`]
    if (existsSync(pyenv)) for (const v of readdirSync(pyenv).filter((d) => d.startsWith(`3.${minor}.`))) candidates.push(join(pyenv, v, 'bin/python3'))
    for (const candidate of candidates) {
      const run = spawnSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' })
      if (run.status === 0 && run.stdout.trim() === `3.${minor}` && !found.has(`3.${minor}`)) found.set(`3.${minor}`, candidate)
    }
  }
  const versions = [...found.keys()]
  const picked = new Set([versions[0], versions[versions.length - 1]].filter((v) => v !== undefined))
  return [...picked].map((version) => ({ version, path: found.get(version)! }))
}

describe('Python SDK (python3 -m unittest)', () => {
  if (!hasPython) {
    if (process.env.CI) it('has python3', () => expect.fail('python3 is missing: CI must run the Python SDK suite'))
    else it.skip('python3 is missing: the Python SDK suite (python/tests) is skipped', () => {})
    return
  }

  it('finds the suite', () => expect(modules.length).toBeGreaterThanOrEqual(6))

  it.each([...modules.map((m) => [`tests.${m}`, PYTHON_DIR]), ['test_render_worker (examples/render-worker-python)', EXAMPLE_DIR]])('%s', (name, cwd) => {
    const module = name.split(' ')[0]!
    const run = spawnSync('python3', ['-m', 'unittest', '-v', module], {
      cwd,
      encoding: 'utf8',
      timeout: 280_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    })
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
    if (run.status !== 0) expect.fail(`python3 -m unittest ${module} (in ${cwd}) exited with ${run.status ?? run.signal}:\n${output}`)
    expect(output).toMatch(/^Ran [1-9]\d* tests? in /m)
    // unittest reports a skip as "… skipped 'reason'" on the test's line and "(skipped=N)" in the summary;
    // a test whose name holds the word (…_are_skipped_and_reported) is not a skip.
    if (process.env.CI) expect(output, 'nothing may skip in CI').not.toMatch(/\.\.\. skipped|\(skipped=\d+\)/)
  }, 300_000)

  const others = otherPythons()
  it.each(others.map((p) => [p.version, p.path]))('runs on Python %s (%s)', (_version, path) => {
    const run = spawnSync(path, ['-m', 'unittest', 'tests.test_vectors', 'tests.test_event', 'tests.test_disk_buffer', 'tests.test_collector'], {
      cwd: PYTHON_DIR,
      encoding: 'utf8',
      timeout: 280_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    })
    if (run.status !== 0) expect.fail(`${path} -m unittest exited with ${run.status ?? run.signal}:\n${run.stdout}${run.stderr}`)
  }, 300_000)
})
