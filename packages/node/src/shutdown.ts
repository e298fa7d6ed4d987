// Opt-in: shut the client down on SIGTERM/SIGINT (persisting what is left), then let the signal
// do what it would have done, so the process still exits as the platform expects.

export interface Closable {
  shutdown(options?: { timeoutMs?: number }): Promise<void>
}

export interface SignalOptions {
  signals?: NodeJS.Signals[]
  /** Passed to shutdown() (default 10000: orchestrators often kill 30 s after SIGTERM). */
  timeoutMs?: number
}

/** Installs the handlers; answers a function that removes them. */
export function shutdownOnSignals(client: Closable, options: SignalOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  const handler = (signal: NodeJS.Signals) => {
    remove()
    client.shutdown({ timeoutMs: options.timeoutMs ?? 10_000 }).finally(() => {
      // With our handler gone, re-raising gives the default behaviour unless the app has its own.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
  const remove = () => {
    for (const signal of signals) process.off(signal, handler)
  }
  for (const signal of signals) process.on(signal, handler)
  return remove
}
