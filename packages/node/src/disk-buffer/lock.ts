// One process per buffer folder: a lock file holding the owner's PID. A lock whose process is
// gone (crash, kill -9) is taken over; a live owner is a configuration error, reported clearly.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { MeterkitBufferError } from '@meterkit/core'

export const LOCK_FILE = 'meterkit.lock'

export class MeterkitBufferLockedError extends MeterkitBufferError {
  readonly pid: number
  constructor(dir: string, pid: number) {
    super(
      'buffer_locked',
      `bufferDir ${dir} is in use by process ${pid}${pid === process.pid ? ' (this process: another Meterkit instance)' : ''}; ` +
        'every process needs its own bufferDir',
    )
    this.pid = pid
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the folder's lock or throws MeterkitBufferLockedError; answers the release function. */
export function acquireLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE)
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      let released = false
      return () => {
        if (released) return
        released = true
        try {
          unlinkSync(path)
        } catch {
          // already gone
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = Number.NaN
    try {
      owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
    } catch {
      continue // removed meanwhile: try again
    }
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw new MeterkitBufferLockedError(dir, owner)
    try {
      unlinkSync(path) // stale: its process is gone (or the file is unreadable garbage)
    } catch {
      // someone else took it over first; the next try decides
    }
  }
  throw new MeterkitBufferError('buffer_locked', `could not take the lock in bufferDir ${dir}`)
}
