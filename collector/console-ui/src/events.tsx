// Events: the audit list with filters, one event's versions, and void or amend with a reason.
import { useState } from 'preact/hooks'
import { type Api, type Page, enc, qs } from './api.js'
import { when } from './format.js'
import { ErrorLine, Section, Table, formFields, useLoad } from './ui.js'

interface EventRow { id: string; event: string; customerId: string; timestamp: string; status: string; properties: Record<string, unknown> }
interface EventDetail extends EventRow { source: string; receivedAt: string; versions: { version: number; action: string; properties: unknown; reason: string; at: string }[] }

export function Events(props: { api: Api }) {
  const [filters, setFilters] = useState<Record<string, string>>({})
  const [cursor, setCursor] = useState<string | undefined>(undefined)
  const list = useLoad(() => {
    const f = filters
    const iso = (v: string | undefined) => (v ? new Date(v).toISOString() : undefined)
    return props.api.get<Page<EventRow>>(`/v1/events${qs({ customerId: f.customerId, event: f.event, from: iso(f.from), to: iso(f.to), cursor, limit: 50 })}`)
  }, [filters, cursor])
  return (
    <Section title="Events">
      <form class="inline" onSubmit={(e) => { setCursor(undefined); setFilters(formFields(e)) }}>
        <input name="customerId" placeholder="customer" aria-label="customer" />
        <input name="event" placeholder="event name" aria-label="event name" />
        <label>from <input name="from" type="datetime-local" /></label>
        <label>to <input name="to" type="datetime-local" /></label>
        <button type="submit">Filter</button>
      </form>
      <ErrorLine error={list.error} />
      <Table testId="events" head={['id', 'event', 'customer', 'time', 'status', 'properties']}
        rows={(list.data?.data ?? []).map((e) => [<a href={`#/events/${enc(e.id)}`}>{e.id}</a>, e.event, e.customerId, when(e.timestamp), e.status, <code>{JSON.stringify(e.properties)}</code>])} />
      {list.data?.nextCursor && <button onClick={() => setCursor(list.data!.nextCursor!)}>Older events</button>}
    </Section>
  )
}

export function EventPage(props: { api: Api; id: string }) {
  const { api, id } = props
  const event = useLoad(() => api.get<EventDetail>(`/v1/events/${enc(id)}`), [id])
  const [error, setError] = useState<string | undefined>(undefined)
  const e = event.data
  if (e === undefined) return <ErrorLine error={event.error} />
  const act = (path: string, body: unknown) => api.post(path, body).then(() => { setError(undefined); event.reload() }, (err: Error) => setError(err.message))
  return (
    <div>
      <h1>Event <code data-testid="event-id">{e.id}</code> <small data-testid="event-status">{e.status}</small></h1>
      <p class="muted">{e.event} · <a href={`#/customers/${enc(e.customerId)}`}>{e.customerId}</a> · {when(e.timestamp)} · {e.source}, received {when(e.receivedAt)}</p>
      <pre data-testid="event-properties">{JSON.stringify(e.properties, null, 2)}</pre>
      <Section title="Versions">
        <Table head={['version', 'action', 'properties', 'reason', 'at']} empty="The event as received; no corrections."
          rows={e.versions.map((v) => [v.version, v.action, <code>{JSON.stringify(v.properties)}</code>, v.reason, when(v.at)])} />
      </Section>
      {e.status !== 'voided' && (
        <Section title="Correct">
          <form onSubmit={(ev) => { const f = formFields(ev); let properties: unknown; try { properties = JSON.parse(f.properties ?? '') } catch { return setError('properties: must be a JSON object') } act(`/v1/events/${enc(e.id)}/amend`, { properties, reason: f.reason }) }}>
            <label>Amended properties <textarea name="properties" rows={4}>{JSON.stringify(e.properties)}</textarea></label>
            <input name="reason" placeholder="reason (required)" aria-label="amend reason" required />
            <button type="submit">Amend</button>
          </form>
          <form class="inline" onSubmit={(ev) => { const f = formFields(ev); act(`/v1/events/${enc(e.id)}/void`, { reason: f.reason }) }}>
            <input name="reason" placeholder="reason (required)" aria-label="void reason" required />
            <button type="submit" class="danger">Void event</button>
          </form>
        </Section>
      )}
      <ErrorLine error={error} />
    </div>
  )
}
