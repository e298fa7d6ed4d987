// One pass of the derived state behind the writer: the events past the rollups' and the credits'
// watermarks are read once, in a read snapshot, and both folds are worked out from that one read
// outside the write lock (the rollups added up, the customers with credits to deduct sorted
// out); the write lock is held only to write them, in one transaction. A store whose ingest runs
// beside its engine (a maintenance thread, a collector holding the fold lock) folds with this.
import type { CreditsService } from './credits/credits-service.js'
import { type PreparedRollups, commitRollups, prepareRollups } from './meters/fold.js'
import type { PreparedCredits } from './credits/credits-service.js'
import type { Storage } from './store/storage.js'

/** Events per pass: large enough that each rollup row and each customer's credits are written once for many events. */
export const FOLD_PASS = 50_000

interface PreparedPass {
  from: number
  to: number
  rollups: PreparedRollups | undefined
  credits: PreparedCredits | undefined
}

/** Folds up to `maxRows` events into the rollups and the credits; answers how many the pass covered (0: caught up). */
export async function foldDerived(storage: Storage, credits: CreditsService, maxRows = FOLD_PASS): Promise<number> {
  const prepared = await storage.transaction('read', async (tx): Promise<PreparedPass | undefined> => {
    const rollupsFrom = await tx.events.foldedSeq()
    const creditsFrom = await tx.watermarks.get('credits')
    const from = Math.min(rollupsFrom, creditsFrom)
    const to = Math.min(await tx.events.maxSeq(), from + maxRows)
    if (to <= from) return undefined
    const rows = await tx.events.range(from, to)
    return {
      from,
      to,
      rollups: rollupsFrom < to ? await prepareRollups(tx, rollupsFrom, to, rows) : undefined,
      credits: creditsFrom < to ? await credits.prepareFold(tx, creditsFrom, to, rows) : undefined,
    }
  })
  if (prepared === undefined) return 0
  await storage.transaction('write', async (tx) => {
    if (prepared.rollups !== undefined) await commitRollups(tx, prepared.rollups, maxRows)
    if (prepared.credits !== undefined) await credits.commitFold(tx, prepared.credits, maxRows)
  })
  return prepared.to - prepared.from
}

/** Folds until caught up. */
export async function foldDerivedAll(storage: Storage, credits: CreditsService, maxRows = FOLD_PASS): Promise<void> {
  while (await foldDerived(storage, credits, maxRows) === maxRows) {
    // keep going until caught up
  }
}
