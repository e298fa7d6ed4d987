// A deliberately simple retrying client for chaos tests (not the SDK): it sends fixed batches of
// events with fixed ids and resends the same bytes after a network error, a timeout, 408, 429
// or 5xx, until the collector answers 200. An event counts as delivered only when a 200 answer
// names it `accepted`, `duplicate` or `queued` (queue mode); that is the set the audits hold the
// store to.
import { ADMIN_KEY } from './collector-process.js'
import { type SentEvent, pause } from './chaos.js'

export interface SendOptions {
  /** The collector's (or a proxy's) base URL now; asked before every attempt. */
  target: () => string
  apiKey?: string
  batchSize: number
  concurrency: number
  /** Attempts per batch before it is given up (counted in `undelivered`). */
  maxAttempts: number
  /** Wall-clock bound of the whole delivery, in ms. */
  deadlineMs: number
  /** Per attempt, body read included, in ms. */
  timeoutMs?: number
  /** Stops new attempts (not new batches) while it answers true; e.g. during a planned kill. */
  stopped?: () => boolean
  /** A pause before each batch of each worker, in ms (default 0): spreads the ingest over time, so that faults strike during it. */
  paceMs?: number
}

export interface DeliveryLog {
  acknowledged: Set<string>
  /** Ids answered `duplicate`: proof that a lost reply or a duplicated request was exercised. */
  duplicates: Set<string>
  /** Ids answered `conflict` or `rejected`: never expected for the same bytes resent. */
  refused: Map<string, string>
  undelivered: string[]
  attempts: number
  /** Requests sent and not yet answered (or failed), now. */
  inFlight: number
  retries: number
  networkErrors: number
  statuses: Map<number, number>
}

export function newDeliveryLog(): DeliveryLog {
  return { acknowledged: new Set(), duplicates: new Set(), refused: new Map(), undelivered: [], attempts: 0, inFlight: 0, retries: 0, networkErrors: 0, statuses: new Map() }
}

interface BatchAnswer {
  results: { id: string; status: string; code?: string }[]
}

const RETRY_STATUS = (s: number) => s === 408 || s === 429 || (s >= 500 && s !== 501 && s !== 505)

async function sendBatch(events: SentEvent[], options: SendOptions, log: DeliveryLog, deadline: number): Promise<void> {
  const body = JSON.stringify({ events })
  for (let attempt = 1; attempt <= options.maxAttempts && Date.now() < deadline; attempt++) {
    if (attempt > 1) {
      log.retries++
      await pause(Math.min(100, 2 * attempt))
    }
    while (options.stopped?.() && Date.now() < deadline) await pause(5)
    log.attempts++
    let status: number
    let answer: BatchAnswer
    log.inFlight++
    try {
      const res = await fetch(`${options.target()}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey ?? ADMIN_KEY}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      })
      status = res.status
      log.statuses.set(status, (log.statuses.get(status) ?? 0) + 1)
      if (status !== 200) {
        if (RETRY_STATUS(status)) {
          await res.body?.cancel()
          continue
        }
        throw new Error(`collector answered ${status} to a well-formed batch: ${await res.text()}`)
      }
      answer = (await res.json()) as BatchAnswer
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('collector answered')) throw err
      log.networkErrors++
      continue
    } finally {
      log.inFlight--
    }
    if (answer.results.length !== events.length) throw new Error(`results: ${answer.results.length} for ${events.length} events`)
    answer.results.forEach((r, i) => {
      if (r.id !== events[i]!.id) throw new Error(`results[${i}].id is ${r.id}, sent ${events[i]!.id}`)
      // `queued`: a collector in queue mode holds it in the durable log (delivered, as the SDKs count it).
      if (r.status === 'accepted' || r.status === 'duplicate' || r.status === 'queued') {
        log.acknowledged.add(r.id)
        if (r.status === 'duplicate') log.duplicates.add(r.id)
      } else {
        log.refused.set(r.id, `${r.status}${r.code ? ` ${r.code}` : ''}`)
      }
    })
    return
  }
  log.undelivered.push(...events.map((e) => e.id))
}

/** Sends every event in batches over `concurrency` workers; resolves when all are settled. */
export async function deliver(events: SentEvent[], options: SendOptions, log = newDeliveryLog()): Promise<DeliveryLog> {
  const deadline = Date.now() + options.deadlineMs
  const batches: SentEvent[][] = []
  for (let i = 0; i < events.length; i += options.batchSize) batches.push(events.slice(i, i + options.batchSize))
  let next = 0
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (next < batches.length) {
      const batch = batches[next++]!
      if (options.paceMs) await pause(options.paceMs)
      await sendBatch(batch, options, log, deadline)
    }
  }))
  return log
}
