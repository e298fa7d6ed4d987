// Stopping real collector processes in chaos tests: drain with SIGTERM or kill -9, and a
// cleanup that leaves no process behind even when a test fails half-way.
import type { CollectorProcess } from './collector-process.js'

const alive = (c: CollectorProcess) => c.child.exitCode === null && c.child.signalCode === null

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; answers the exit code. */
export async function stopCollector(c: CollectorProcess, graceMs = 15_000): Promise<number | null> {
  if (alive(c)) c.child.kill('SIGTERM')
  const timer = setTimeout(() => {
    if (alive(c)) c.child.kill('SIGKILL')
  }, graceMs)
  try {
    return await c.exited
  } finally {
    clearTimeout(timer)
  }
}

/** kill -9 and wait for the process to be gone. */
export async function killCollector(c: CollectorProcess): Promise<void> {
  if (alive(c)) c.child.kill('SIGKILL')
  await c.exited
}

/** Collects the processes a test starts so a `finally` can end them all, each by its pid. */
export class Processes {
  private readonly list: CollectorProcess[] = []
  add(c: CollectorProcess): CollectorProcess {
    this.list.push(c)
    return c
  }

  async killAll(): Promise<void> {
    await Promise.all(this.list.map((c) => killCollector(c)))
  }
}
