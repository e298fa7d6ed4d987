// Live figures of one customer over the collector's stream (server-sent events). EventSource
// cannot send headers, so the stream is opened with a short-lived customer token, never a key.
import { useEffect, useState } from 'preact/hooks'

export interface LiveFigures {
  /** Usage value by meter, as last received. */
  usage: Record<string, string | null>
  balance: { balance: string; available: string; reserved: string } | undefined
  state: 'connecting' | 'live' | 'closed'
}

export function useLive(customerId: string, token: (() => Promise<string>) | undefined): LiveFigures {
  const [figures, setFigures] = useState<LiveFigures>({ usage: {}, balance: undefined, state: 'connecting' })
  useEffect(() => {
    if (token === undefined) return
    let source: EventSource | undefined
    let closed = false
    void token().then((t) => {
      if (closed) return
      source = new EventSource(`/v1/customers/${encodeURIComponent(customerId)}/stream?token=${encodeURIComponent(t)}`)
      source.onopen = () => setFigures((f) => ({ ...f, state: 'live' }))
      source.addEventListener('usage', (e) => {
        const data = JSON.parse((e as MessageEvent<string>).data) as { meter: string; value: string | null }
        setFigures((f) => ({ ...f, usage: { ...f.usage, [data.meter]: data.value } }))
      })
      source.addEventListener('balance', (e) => {
        const data = JSON.parse((e as MessageEvent<string>).data) as LiveFigures['balance']
        setFigures((f) => ({ ...f, balance: data }))
      })
    })
    return () => {
      closed = true
      source?.close()
    }
  }, [customerId])
  return figures
}
