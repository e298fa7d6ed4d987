// CSV exports for finance: invoices, invoice lines, ledger entries and usage over a range.
import { useState } from 'preact/hooks'
import { type Api, qs } from './api.js'
import { ErrorLine, Section, formFields } from './ui.js'

export function Exports(props: { api: Api }) {
  const [error, setError] = useState<string | undefined>(undefined)
  const start = new Date()
  const from = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)).toISOString().slice(0, 10)
  const to = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1)).toISOString().slice(0, 10)
  const run = (e: Event, path: string, name: string) => {
    const f = formFields(e)
    const iso = (d: string | undefined) => (d ? new Date(`${d}T00:00:00Z`).toISOString() : undefined)
    props.api.download(`${path}${qs({ from: iso(f.from), to: iso(f.to), customerId: f.customerId, window: f.window })}`, name)
      .then(() => setError(undefined), (err: Error) => setError(err.message))
  }
  return (
    <Section title="Exports (CSV, RFC 4180)">
      <form class="inline" data-testid="export-invoices" onSubmit={(e) => run(e, '/v1/exports/invoices.csv', 'invoices.csv')}>
        <strong>Invoices</strong><input name="customerId" placeholder="customer (all)" aria-label="customer" />
        <label>period ends from <input name="from" type="date" defaultValue={from} /></label><label>to <input name="to" type="date" defaultValue={to} /></label>
        <button type="submit">Download</button>
      </form>
      <form class="inline" data-testid="export-lines" onSubmit={(e) => run(e, '/v1/exports/invoice-lines.csv', 'invoice-lines.csv')}>
        <strong>Invoice lines</strong><input name="customerId" placeholder="customer (all)" aria-label="customer" />
        <label>period ends from <input name="from" type="date" defaultValue={from} /></label><label>to <input name="to" type="date" defaultValue={to} /></label>
        <button type="submit">Download</button>
      </form>
      <form class="inline" data-testid="export-ledger" onSubmit={(e) => run(e, '/v1/exports/ledger.csv', 'ledger.csv')}>
        <strong>Ledger entries</strong><input name="customerId" placeholder="customer (all)" aria-label="customer" />
        <button type="submit">Download</button>
      </form>
      <form class="inline" data-testid="export-usage" onSubmit={(e) => run(e, '/v1/exports/usage.csv', 'usage.csv')}>
        <strong>Usage by customer and meter</strong><input name="customerId" placeholder="customer (all)" aria-label="customer" />
        <label>from <input name="from" type="date" defaultValue={from} /></label><label>to <input name="to" type="date" defaultValue={to} /></label>
        <select name="window" aria-label="window"><option value="none">whole range</option><option value="day">by day</option><option value="month">by month</option></select>
        <button type="submit">Download</button>
      </form>
      <ErrorLine error={error} />
    </Section>
  )
}
