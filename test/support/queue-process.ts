// Real `meterkit worker` processes (queue mode) for tests about processes and crashes, with the
// same shape as collector processes so that test/support/collector-control.ts stops and kills them.
import { spawn } from 'node:child_process'
import { CLI, type CollectorProcess } from './collector-process.js'

/** `meterkit worker --store URL --queue NATS --queue-stream STREAM`; resolves once it runs. */
export async function startWorker(storeUrl: string, queueUrl: string, stream: string, args: string[] = []): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--store', storeUrl, '--queue', queueUrl, '--queue-stream', stream, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (c) => (out += c))
  child.stderr!.on('data', (c) => (out += c))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (out.includes('meterkit worker running')) resolve()
    })
    void exited.then((code) => reject(new Error(`worker exited (${code}) before running:\n${out}`)))
  })
  return { url: '', child, output: () => out, exited }
}

/** The arguments that put `meterkit start` in queue mode on this stream. */
export function queueArgs(queueUrl: string, stream: string): string[] {
  return ['--queue', queueUrl, '--queue-stream', stream]
}
