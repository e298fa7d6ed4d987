// The customer portal (/portal?token=mk_ct_…): one customer's live usage and credits, what each
// charge cost, invoices, and quotes. The token moves from the URL to this tab's sessionStorage at
// once, so it does not stay in the address bar, history or a copied link.
import './style.css'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Api, type Page, enc } from './api.js'
import { InvoiceTable, type InvoiceSummary } from './customers.js'
import { when } from './format.js'
import { useLive } from './live.js'
import { ErrorLine, Section, Table, formFields, useLoad } from './ui.js'

const KEY = 'meterkit.portal.token'

function takeToken(): string | undefined {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl !== null) {
    sessionStorage.setItem(KEY, fromUrl)
    url.searchParams.delete('token')
    history.replaceState(null, '', url.pathname + url.search + url.hash)
  }
  return sessionStorage.getItem(KEY) ?? undefined
}

/** The customer a token is for, read from its payload (the collector checks the signature). */
function tokenCustomer(token: string): string | undefined {
  try {
    const payload = token.slice('mk_ct_'.length).split('.')[0]!
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { c?: string; customerId?: string }
    return json.customerId ?? json.c
  } catch {
    return undefined
  }
}

interface Balance { balance: string; available: string; reserved: string }
interface LedgerEntry { id: string; type: string; credits: string; balanceAfter: string; at: string; eventIds?: string[]; reason?: string }
interface Quote { credits: string; amount: string; currency: string }

function Portal(props: { api: Api; token: string; customerId: string }) {
  const { api, customerId, token } = props
  const base = `/v1/customers/${enc(customerId)}`
  const data = useLoad(async () => {
    const [balance, ledger, invoices] = await Promise.all([
      api.get<Balance>(`${base}/balance`),
      api.get<Page<LedgerEntry>>(`${base}/ledger?limit=100`),
      api.get<Page<InvoiceSummary>>(`${base}/invoices?limit=50`),
    ])
    return { balance, ledger, invoices }
  }, [])
  const live = useLive(customerId, async () => token)
  // A new balance means new ledger entries: read the charges again.
  useEffect(() => {
    if (live.balance !== undefined) data.reload()
  }, [live.balance?.balance])
  const [quote, setQuote] = useState<Quote | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [invoiceHtml, setInvoiceHtml] = useState<string | undefined>(undefined)
  const d = data.data
  if (d === undefined) return <ErrorLine error={data.error} />
  const balance = live.balance ?? d.balance
  const charges = d.ledger.data.filter((e) => e.type === 'deduction').reverse()
  return (
    <main class="portal">
      <h1>Usage and billing <small data-testid="portal-customer">{customerId}</small> <span class="pill" data-state={live.state} data-testid="live-state">{live.state}</span></h1>
      <div class="cards">
        <div class="card"><span>Credits available</span><strong data-testid="available">{balance.available}</strong></div>
        <div class="card"><span>Balance</span><strong data-testid="balance">{balance.balance}</strong></div>
        <div class="card"><span>Reserved</span><strong>{balance.reserved}</strong></div>
        {Object.entries(live.usage).map(([meter, value]) => <div class="card" key={meter} data-meter={meter}><span>{meter}</span><strong class="value">{value ?? '—'}</strong></div>)}
      </div>
      <Section title="What each charge cost">
        <Table testId="charges" head={['when', 'credits', 'events', 'balance after']} empty="Nothing charged yet."
          rows={charges.map((e) => [when(e.at), e.credits, e.eventIds?.join(', ') ?? e.reason ?? '', e.balanceAfter])} />
      </Section>
      <Section title="Price a job before it runs">
        <form class="inline" data-testid="quote-form" onSubmit={(e) => {
          const f = formFields(e)
          let properties: unknown
          try { properties = JSON.parse(f.properties || '{}') } catch { return setError('properties: must be JSON') }
          api.post<Quote>('/v1/quotes', { customerId, event: f.event, properties }).then((q) => { setError(undefined); setQuote(q) }, (err: Error) => setError(err.message))
        }}>
          <input name="event" placeholder="event" aria-label="event" required />
          <input name="properties" placeholder='{"gpuSeconds": 30}' aria-label="properties" />
          <button type="submit">Quote</button>
        </form>
        {quote && <p data-testid="quote">{quote.credits} credits ({quote.amount} {quote.currency})</p>}
      </Section>
      <Section title="Invoices">
        <div onClick={(e) => {
          const a = (e.target as HTMLElement).closest('a')
          if (a === null) return
          e.preventDefault()
          api.get<string>(`${base}/invoices/${a.getAttribute('href')!.slice(1)}.html`).then(setInvoiceHtml, (err: Error) => setError(err.message))
        }}>
          <InvoiceTable testId="portal-invoices" invoices={d.invoices.data} href={(i) => `#${enc(i.id)}`} />
        </div>
        {invoiceHtml && <iframe class="invoice" title="invoice" sandbox="" srcdoc={invoiceHtml} data-testid="invoice-frame" />}
      </Section>
      <ErrorLine error={error} />
    </main>
  )
}

function App() {
  const token = takeToken()
  const customerId = token === undefined ? undefined : tokenCustomer(token)
  if (token === undefined || customerId === undefined) {
    return <main class="signin"><h1>Usage and billing</h1><p class="error" role="alert">This page needs a link with a customer token (?token=mk_ct_…).</p></main>
  }
  return <Portal api={new Api(token)} token={token} customerId={customerId} />
}

render(<App />, document.getElementById('app')!)
