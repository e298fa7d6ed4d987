// One invoice: every line, and from a line its exact source events (paged); payments and void.
import { useState } from 'preact/hooks'
import { type Api, type Page, enc, qs } from './api.js'
import { when } from './format.js'
import { ErrorLine, Section, Table, formFields, useLoad } from './ui.js'

interface Line { id: string; chargeKey: string; kind: string; description: string; quantity: string; amount: string; credits?: string; eventCount: number }
interface Invoice {
  id: string; number: number | null; customerId: string; status: string; currency: string; periodStart: string; periodEnd: string
  lines: Line[]; subtotal: string; creditsApplied: string; total: string; amountPaid: string; amountDue: string
  payments: { id: string; amount: string; method: string; reference: string | null; at: string }[]
  creditNote: { id: string; amount: string; reason: string | null } | null
}

function LineEvents(props: { api: Api; invoiceId: string; lineId: string }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined)
  const page = useLoad(() => props.api.get<Page<{ id: string; timestamp: string }>>(
    `/v1/invoices/${enc(props.invoiceId)}/lines/${enc(props.lineId)}/events${qs({ cursor, limit: 50 })}`), [cursor])
  return (
    <div class="line-events" data-testid="line-events">
      <ErrorLine error={page.error} />
      <Table head={['event', 'time']} rows={(page.data?.data ?? []).map((e) => [<a href={`#/events/${enc(e.id)}`} data-event-id={e.id}>{e.id}</a>, when(e.timestamp)])} />
      {page.data?.nextCursor && <button onClick={() => setCursor(page.data!.nextCursor!)}>More events</button>}
    </div>
  )
}

export function InvoicePage(props: { api: Api; id: string }) {
  const { api, id } = props
  const invoice = useLoad(() => api.get<Invoice>(`/v1/invoices/${enc(id)}`), [id])
  const [open, setOpen] = useState<string | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const i = invoice.data
  if (i === undefined) return <ErrorLine error={invoice.error} />
  const act = (run: () => Promise<unknown>) => run().then(() => { setError(undefined); invoice.reload() }, (e: Error) => setError(e.message))
  return (
    <div>
      <h1>Invoice {i.number ?? i.id} <small data-testid="invoice-status">{i.status}</small></h1>
      <p class="muted">
        <a href={`#/customers/${enc(i.customerId)}`}>{i.customerId}</a> · {i.periodStart.slice(0, 10)} – {i.periodEnd.slice(0, 10)}
      </p>
      <Section title="Lines">
        <Table testId="invoice-lines" head={['line', 'kind', 'quantity', 'amount', 'credits', 'events']} rows={i.lines.map((l) => [
          l.description, l.kind, l.quantity, l.amount, l.credits ?? '',
          l.eventCount > 0 ? <button data-line={l.id} onClick={() => setOpen(open === l.id ? undefined : l.id)}>{l.eventCount} {l.eventCount === 1 ? 'event' : 'events'}</button> : '0',
        ])} />
        {open && <LineEvents api={api} invoiceId={i.id} lineId={open} />}
        <p class="totals">Subtotal {i.subtotal} · credits applied {i.creditsApplied} · total <strong data-testid="invoice-total">{i.total} {i.currency}</strong> ·
          paid {i.amountPaid} · due <strong data-testid="invoice-due">{i.amountDue}</strong></p>
      </Section>
      <Section title="Payments">
        <Table head={['payment', 'amount', 'method', 'reference', 'at']} empty="No payments."
          rows={i.payments.map((p) => [p.id, p.amount, p.method, p.reference ?? '', when(p.at)])} />
        {(i.status === 'finalized') && (
          <form class="inline" data-testid="payment-form" onSubmit={(e) => { const f = formFields(e); act(() => api.post(`/v1/invoices/${enc(i.id)}/payments`, { amount: f.amount, method: f.method, ...(f.reference ? { reference: f.reference } : {}) })) }}>
            <input name="amount" placeholder="amount" aria-label="amount" defaultValue={i.amountDue} required />
            <select name="method" aria-label="method"><option>wire</option><option>check</option><option>cash</option></select>
            <input name="reference" placeholder="reference" aria-label="reference" />
            <button type="submit">Record payment</button>
          </form>
        )}
      </Section>
      <Section title="Void">
        {i.creditNote ? <p>Credit note {i.creditNote.id}: {i.creditNote.amount} {i.currency} {i.creditNote.reason ? `(${i.creditNote.reason})` : ''}</p>
          : i.status === 'finalized' || i.status === 'paid' ? (
            <form class="inline" onSubmit={(e) => { const f = formFields(e); if (confirm('Void this invoice with a credit note?')) act(() => api.post(`/v1/invoices/${enc(i.id)}/void`, f.reason ? { reason: f.reason } : {})) }}>
              <input name="reason" placeholder="reason" aria-label="void reason" />
              <button type="submit" class="danger">Void invoice</button>
            </form>
          ) : <p class="muted">Only a final invoice can be voided.</p>}
      </Section>
      <ErrorLine error={error} />
    </div>
  )
}
