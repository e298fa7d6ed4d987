// Test support for queue mode: whether NATS with JetStream answers (MK_TEST_NATS, default
// nats://127.0.0.1:4222), a stream name of a test's own, and a nats-server process of a test's
// own (its own port and store folder) for tests that stop, restart or kill it. Where no NATS
// answers, tests that need one skip with a message, except under CI, where they must run.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { DEFAULT_DUPLICATE_WINDOW_MS, type QueueOptions } from './options.js'

export const NATS_URL = process.env.MK_TEST_NATS ?? 'nats://127.0.0.1:4222'
/** The nats-server binary for servers of a test's own (MK_TEST_NATS_SERVER). */
export const NATS_SERVER = process.env.MK_TEST_NATS_SERVER ?? '/usr/sbin/nats-server'

async function reachable(url: string): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: url, timeout: 3000, reconnect: false })
    try {
      await (await jetstreamManager(nc, { timeout: 3000 })).getAccountInfo()
      return undefined
    } finally {
      await nc.close()
    }
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Whether queue tests run here: true, or a sentence saying why they skip. Under `CI` an
 * unreachable server throws instead, so that CI never passes without them.
 */
export async function natsAvailable(): Promise<true | string> {
  const reason = await reachable(NATS_URL)
  if (reason === undefined) return true
  const message = `NATS tests skipped: no NATS server with JetStream at ${NATS_URL} (${reason}); set MK_TEST_NATS to run them`
  if (process.env.CI) throw new Error(message.replace('skipped', 'cannot run under CI'))
  console.warn(message)
  return message
}

/** Whether tests that run a nats-server of their own can: true, or why not (CI: throws). */
export function natsServerAvailable(): true | string {
  if (existsSync(NATS_SERVER)) return true
  const message = `NATS restart tests skipped: no nats-server binary at ${NATS_SERVER}; set MK_TEST_NATS_SERVER to run them`
  if (process.env.CI) throw new Error(message.replace('skipped', 'cannot run under CI'))
  console.warn(message)
  return message
}

/** Queue options on a stream of the test's own (subjects and consumers included). */
export function testQueue(overrides: Partial<QueueOptions> = {}): QueueOptions {
  return {
    servers: [NATS_URL],
    stream: `mk_t_${randomBytes(5).toString('hex')}`,
    partitions: 8,
    maxBytes: 256 * 1024 * 1024,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    ...overrides,
  }
}

/** Deletes a test's stream (its consumers go with it). */
export async function deleteStream(servers: string[], stream: string): Promise<void> {
  const nc = await connect({ servers, timeout: 3000, reconnect: false }).catch(() => undefined)
  if (nc === undefined) return
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined)
  } finally {
    await nc.close()
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** A nats-server of a test's own on loopback, with JetStream in a folder of its own. */
export class NatsServer {
  private child: ChildProcess | undefined
  private constructor(readonly port: number, readonly storeDir: string) {}

  static async start(): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), mkdtempSync(join(tmpdir(), 'meterkit-nats-')))
    await server.restart()
    return server
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Starts the server (again, on the same port and store) and resolves once it takes JetStream requests. */
  async restart(): Promise<void> {
    if (this.running) return
    let out = ''
    const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.on('data', (c) => (out += c))
    child.stderr!.on('data', (c) => (out += c))
    this.child = child
    const deadline = Date.now() + 20_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}):\n${out}`)
      if (await reachable(this.url) === undefined) return
      if (Date.now() > deadline) throw new Error(`nats-server did not answer on ${this.url} within 20 s:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** SIGTERM (a clean stop), or SIGKILL; resolves once the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined || !this.running) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }

  /** Stops the server and removes its store. */
  async close(): Promise<void> {
    await this.stop('SIGKILL')
    rmSync(this.storeDir, { recursive: true, force: true })
  }
}

/** A TCP pass-through on loopback (to PostgreSQL, say) that a test can cut: a database gone away, for real. */
export interface TcpProxy {
  port: number
  /** Resets every connection and refuses new ones until `restore`. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

export async function tcpProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<TcpProxy> {
  const { connect: tcpConnect } = await import('node:net')
  const sockets = new Set<import('node:net').Socket>()
  let open = true
  const track = (s: import('node:net').Socket) => {
    sockets.add(s)
    s.on('error', () => undefined)
    s.once('close', () => sockets.delete(s))
    return s
  }
  const server = createServer((client) => {
    track(client)
    if (!open) return client.resetAndDestroy()
    const upstream = track(tcpConnect(upstreamPort, upstreamHost))
    client.pipe(upstream)
    upstream.pipe(client)
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      open = false
      for (const s of sockets) s.resetAndDestroy()
    },
    restore() {
      open = true
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}
