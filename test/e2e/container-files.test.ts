// The Dockerfile and compose.yaml, checked without a container engine (none runs here, and
// hadolint is not in the npm registry for Node 20): the Dockerfile parsed into its stages and
// instructions, compose.yaml parsed as YAML, each held to the rules operators rely on.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT } from '../support/collector-process.js'

interface Instruction { keyword: string; args: string; line: number }
interface Stage { from: string; name: string | undefined; instructions: Instruction[] }

/** Dockerfile instructions, with `\` continuations joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!
    if (/^\s*(#|$)/.test(line)) continue
    while (line.endsWith('\\')) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line)
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${line}`)
    const instruction = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 }
    if (instruction.keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)
      if (!from) throw new Error(`Dockerfile line ${start + 1}: FROM image [AS name]`)
      stages.push({ from: from[1]!, name: from[2], instructions: [] })
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile line ${start + 1}: ${instruction.keyword} before FROM`)
      stages.at(-1)!.instructions.push(instruction)
    }
  }
  return stages
}

const KNOWN = new Set(['RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'])

describe('Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const runtime = stages.at(-1)!
  const all = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword)

  it('is well formed: known instructions, pinned base images, exec-form entrypoint', () => {
    for (const s of stages) {
      for (const i of s.instructions) expect(KNOWN.has(i.keyword), `line ${i.line}: ${i.keyword}`).toBe(true)
      expect(s.from, 'a base image with a tag, never latest').toMatch(/^[a-z0-9./-]+:(?!latest$)[\w.-]+$/)
    }
    for (const keyword of ['ENTRYPOINT', 'CMD', 'HEALTHCHECK']) {
      const [i] = all(runtime, keyword)
      expect(i, keyword).toBeDefined()
      // Exec form (JSON), so the CLI is PID 1 and receives SIGTERM itself.
      const json = keyword === 'HEALTHCHECK' ? i!.args.slice(i!.args.indexOf('CMD') + 3).trim() : i!.args
      expect(() => JSON.parse(json) as string[], `${keyword} in exec form`).not.toThrow()
    }
    expect(all(runtime, 'ENTRYPOINT')[0]!.args).toContain('@meterkit/collector/bin/meterkit.js')
  })

  it('is multi-stage, and each COPY --from names an earlier stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const names = stages.map((s) => s.name)
    stages.forEach((s, index) => {
      for (const copy of all(s, 'COPY')) {
        const from = /--from=(\S+)/.exec(copy.args)?.[1]
        if (from !== undefined) expect(names.slice(0, index), `line ${copy.line}`).toContain(from)
      }
    })
    // The compilers stay behind: the runtime stage builds nothing.
    expect(all(runtime, 'RUN').some((r) => /npm (install|ci)|pnpm|node-gyp/.test(r.args))).toBe(false)
    expect(runtime.from).toMatch(/slim|alpine|distroless/)
  })

  it('runs as a non-root user, with the database in a volume and a readiness health check', () => {
    const users = all(runtime, 'USER')
    expect(users).toHaveLength(1)
    expect(users[0]!.args).not.toMatch(/^(root|0)(:|$)/)
    // The user switch comes after the last RUN: nothing runs as root past it.
    expect(users[0]!.line).toBeGreaterThan(Math.max(...all(runtime, 'RUN').map((r) => r.line)))
    const volume = JSON.parse(all(runtime, 'VOLUME')[0]!.args) as string[]
    expect(volume).toContain('/data')
    const env = all(runtime, 'ENV').map((e) => e.args).join(' ')
    expect(env).toMatch(/MK_DB=\/data\//)
    expect(env).toMatch(/HOST=0\.0\.0\.0/)
    expect(all(runtime, 'EXPOSE')[0]!.args).toBe('8790')
    const health = all(runtime, 'HEALTHCHECK')[0]!.args
    expect(health).toContain('/readyz')
    expect(health).toMatch(/--interval=\d+s/)
    // The data folder belongs to the user the server runs as.
    expect(all(runtime, 'RUN').map((r) => r.args).join(' ')).toMatch(/chown meterkit:meterkit \/data/)
  })

  it('builds what the install test installs, and ignores local state', () => {
    const build = stages.map((s) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' ')).join(' ')
    expect(build).toContain('--frozen-lockfile')
    expect(build).toContain('node scripts/pack-install.mjs')
    expect(existsSync(join(ROOT, 'scripts/pack-install.mjs'))).toBe(true)
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    for (const entry of ['**/node_modules', '**/dist', '**/*.db', '.git']) expect(ignore).toContain(entry)
  })
})

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
    services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; volumes?: string[]; healthcheck?: { test: string[] }; ports?: string[] }>
    volumes: Record<string, unknown>
  }
  const services = compose.services

  it('runs two collectors on PostgreSQL, each dependency healthy before it is used', () => {
    expect(Object.keys(services).sort()).toEqual(['collector', 'collector-2', 'postgres'])
    expect(services.postgres!.image).toMatch(/^postgres:\d+/)
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined()
        expect(d.condition).toBe('service_healthy')
        // A dependency is healthy through its own check, or the image's HEALTHCHECK (the collector).
        if (dep !== 'collector') expect(services[dep]!.healthcheck?.test[0], dep).toBe('CMD')
      }
    }
    expect(Object.keys(services.collector!.depends_on ?? {}).sort()).toEqual(['postgres'])
  })

  it('points both collectors\' store at that database, with secrets from the environment', () => {
    for (const name of ['collector', 'collector-2']) {
      const env = services[name]!.environment!
      expect(new URL(env.MK_STORE!.replace(/\$\{[^}]+\}/g, 'x')).host).toBe('postgres:5432')
      expect(services[name]!.command).toEqual(['start'])
    }
    // No secret is written in the file: each is required from the environment.
    expect(services.collector!.environment!.MK_ADMIN_KEY).toMatch(/^\$\{MK_ADMIN_KEY:\?/)
    expect(services.postgres!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/)
    expect(services.collector!.ports).toContain('8790:8790')
  })

  it('keeps every service\'s data in a declared named volume', () => {
    const mounts = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, (s.volumes ?? []).map((v) => v.split(':'))]))
    expect(mounts.collector).toContainEqual(['collector-data', '/data'])
    expect(mounts.postgres).toContainEqual(['postgres-data', '/var/lib/postgresql/data'])
    for (const m of Object.values(mounts).flat()) expect(Object.keys(compose.volumes)).toContain(m[0])
  })
})

describe('compose.queue.yaml', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.queue.yaml'), 'utf8')) as {
    services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; volumes?: string[]; healthcheck?: { test?: string[]; disable?: boolean } }>
    volumes: Record<string, unknown>
  }
  const services = compose.services

  it('runs two queue-mode collectors and two workers over NATS JetStream and PostgreSQL, each dependency healthy first', () => {
    expect(Object.keys(services).sort()).toEqual(['collector', 'collector-2', 'nats', 'postgres', 'worker', 'worker-2'])
    expect(services.nats!.image).toMatch(/^nats:2\.\d+/)
    expect(services.nats!.command).toEqual(expect.arrayContaining(['-js', '-sd', '/data']))
    expect(Object.keys(services.collector!.depends_on ?? {}).sort()).toEqual(['nats', 'postgres'])
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined()
        expect(d.condition).toBe('service_healthy')
        if (dep !== 'collector') expect(services[dep]!.healthcheck?.test?.[0], dep).toBe('CMD')
      }
    }
  })

  it('gives collectors and workers the same store and queue, workers the worker command and no HTTP check', () => {
    for (const name of ['collector', 'collector-2', 'worker', 'worker-2']) {
      const env = services[name]!.environment!
      expect(new URL(env.MK_STORE!.replace(/\$\{[^}]+\}/g, 'x')).host).toBe('postgres:5432')
      expect(env.MK_QUEUE).toBe('nats://nats:4222')
    }
    expect(services.collector!.command).toEqual(['start'])
    for (const name of ['worker', 'worker-2']) {
      expect(services[name]!.command).toEqual(['worker'])
      expect(services[name]!.healthcheck?.disable).toBe(true)
    }
    expect(services.collector!.environment!.MK_ADMIN_KEY).toMatch(/^\$\{MK_ADMIN_KEY:\?/)
  })

  it('keeps the stream and the database in declared named volumes', () => {
    const mounts = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, (s.volumes ?? []).map((v) => v.split(':'))]))
    expect(mounts.nats).toContainEqual(['nats-data', '/data'])
    expect(mounts.postgres).toContainEqual(['postgres-data', '/var/lib/postgresql/data'])
    for (const m of Object.values(mounts).flat()) expect(Object.keys(compose.volumes)).toContain(m[0])
  })
})
