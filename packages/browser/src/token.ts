// The customer token of a client: a fixed string, or a function (your backend's endpoint) asked
// at start and again whenever the collector refuses the current token. One ask at a time.
import { MeterkitError } from '@meterkit/core'

export type TokenOption = string | (() => string | Promise<string>)

export class Token {
  current: string | undefined
  /** Where a failing token function is reported (the client's onError). */
  onError: (error: MeterkitError) => void = () => undefined
  #asking: Promise<boolean> | undefined
  readonly #source: TokenOption

  constructor(source: TokenOption) {
    this.#source = source
    this.current = typeof source === 'string' ? source : undefined
  }

  /** Asks the function for a token; true when it gave a new one (false for a fixed token). */
  renew(): Promise<boolean> {
    const source = this.#source
    if (typeof source !== 'function') return Promise.resolve(false)
    this.#asking ??= (async () => {
      try {
        const next = await source()
        const changed = next !== this.current
        this.current = next
        return changed
      } catch (err) {
        this.onError(new MeterkitError('token_unavailable', `the token function failed: ${err}`))
        return false
      } finally {
        this.#asking = undefined
      }
    })()
    return this.#asking
  }
}
