// Webhooks: endpoints, and deliveries with their attempts, last status and last error.
import { useState } from 'preact/hooks'
import { type Api, type Page, enc, qs } from './api.js'
import { when } from './format.js'
import { ErrorLine, Section, Table, useLoad } from './ui.js'

interface Delivery { id: string; type: string; url: string; status: string; attempts: number; lastAttemptAt: string | null; lastStatus: number | null; lastError: string | null; nextAttemptAt: string | null }
interface Endpoint { id: string; url: string; events: string[]; createdAt: string }

export function Webhooks(props: { api: Api }) {
  const { api } = props
  const [status, setStatus] = useState('')
  const [cursor, setCursor] = useState<string | undefined>(undefined)
  const endpoints = useLoad(() => api.get<Page<Endpoint>>('/v1/webhooks/endpoints'), [])
  const deliveries = useLoad(() => api.get<Page<Delivery>>(`/v1/webhooks/deliveries${qs({ status, cursor, limit: 50 })}`), [status, cursor])
  const [error, setError] = useState<string | undefined>(undefined)
  return (
    <div>
      <Section title="Endpoints">
        <ErrorLine error={endpoints.error} />
        <Table testId="endpoints" head={['id', 'url', 'events', 'created']} empty="No endpoints registered over the API."
          rows={(endpoints.data?.data ?? []).map((e) => [e.id, e.url, e.events.join(', '), when(e.createdAt)])} />
      </Section>
      <Section title="Deliveries" actions={
        <select aria-label="status" value={status} onChange={(e) => { setCursor(undefined); setStatus((e.currentTarget as HTMLSelectElement).value) }}>
          <option value="">all</option><option>pending</option><option>delivered</option><option>failed</option>
        </select>}>
        <ErrorLine error={deliveries.error ?? error} />
        <Table testId="deliveries" head={['delivery', 'type', 'url', 'status', 'attempts', 'last attempt', 'last answer', 'last error', '']}
          rows={(deliveries.data?.data ?? []).map((d) => [d.id, d.type, d.url, d.status, d.attempts, when(d.lastAttemptAt), d.lastStatus ?? '', d.lastError ?? '',
            d.status === 'pending' ? '' : <button onClick={() => api.post(`/v1/webhooks/deliveries/${enc(d.id)}/redeliver`).then(deliveries.reload, (e: Error) => setError(e.message))}>Redeliver</button>])} />
        {deliveries.data?.nextCursor && <button onClick={() => setCursor(deliveries.data!.nextCursor!)}>Older deliveries</button>}
      </Section>
    </div>
  )
}
