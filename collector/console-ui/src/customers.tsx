// Customers: search, and one customer's subscription, live usage per meter, balance and ledger,
// invoices and the upcoming invoice.
import { useState } from 'preact/hooks'
import { type Api, type Page, enc, qs } from './api.js'
import { when } from './format.js'
import { useLive } from './live.js'
import { ErrorLine, Section, Table, formFields, useLoad } from './ui.js'

interface Customer { id: string; name: string | null; email: string | null; timezone: string; createdAt: string }
interface Subscription { id: string; plan: string; status: string; currentPeriodStart: string | null; currentPeriodEnd: string | null; startAt: string }
interface Balance { balance: string; available: string; reserved: string; grants: { id: string; credits: string; remaining: string; priority: number; expiresAt: string | null }[] }
interface LedgerEntry { id: string; type: string; credits: string; balanceAfter: string; at: string; eventIds?: string[]; reason?: string }
export interface InvoiceSummary { id: string; number: number | null; status: string; periodStart: string; periodEnd: string; currency: string; total: string; amountDue: string }

export function Customers(props: { api: Api }) {
  const [search, setSearch] = useState('')
  const [cursor, setCursor] = useState<string | undefined>(undefined)
  const list = useLoad(() => props.api.get<Page<Customer>>(`/v1/customers${qs({ search, cursor, limit: 50 })}`), [search, cursor])
  return (
    <Section title="Customers">
      <form class="inline" onSubmit={(e) => { const f = formFields(e); setCursor(undefined); setSearch(f.search ?? '') }}>
        <input name="search" placeholder="id, name or email" aria-label="search customers" defaultValue={search} />
        <button type="submit">Search</button>
      </form>
      <ErrorLine error={list.error} />
      <Table testId="customers" head={['id', 'name', 'email', 'time zone', 'created']} empty="No customers match."
        rows={(list.data?.data ?? []).map((c) => [<a href={`#/customers/${enc(c.id)}`}>{c.id}</a>, c.name ?? '', c.email ?? '', c.timezone, when(c.createdAt)])} />
      {list.data?.nextCursor && <button onClick={() => setCursor(list.data!.nextCursor!)}>Next page</button>}
    </Section>
  )
}

export function InvoiceTable(props: { invoices: InvoiceSummary[]; href: (i: InvoiceSummary) => string; testId?: string }) {
  return (
    <Table testId={props.testId} head={['number', 'status', 'period', 'total', 'due']} empty="No invoices yet."
      rows={props.invoices.map((i) => [<a href={props.href(i)}>{i.number ?? i.id}</a>, i.status,
        `${i.periodStart.slice(0, 10)} – ${i.periodEnd.slice(0, 10)}`, `${i.total} ${i.currency}`, `${i.amountDue} ${i.currency}`])} />
  )
}

export function CustomerDetail(props: { api: Api; id: string }) {
  const { api, id } = props
  const base = `/v1/customers/${enc(id)}`
  const detail = useLoad(async () => {
    const [customer, subscriptions, balance, ledger, invoices, config] = await Promise.all([
      api.get<Customer>(base),
      api.get<Page<Subscription>>(`${base}/subscriptions`),
      api.get<Balance>(`${base}/balance`),
      api.get<Page<LedgerEntry>>(`${base}/ledger?limit=100`),
      api.get<Page<InvoiceSummary>>(`/v1/invoices?customerId=${enc(id)}&limit=100`),
      api.get<{ config: { meters: { key: string }[] } }>('/v1/config'),
    ])
    // The range the live stream follows: the last 30 days.
    const from = new Date(Date.now() - 30 * 86_400_000).toISOString()
    const usage = await Promise.all(config.config.meters.map((m) => api.get<{ meter: string; value: string | null }>(`${base}/usage?meter=${enc(m.key)}&from=${from}`)))
    const upcoming = subscriptions.data.some((s) => s.status === 'active') ? await api.get<InvoiceSummary>(`${base}/invoices/upcoming`).catch(() => undefined) : undefined
    return { customer, subscriptions, balance, ledger, invoices, usage, upcoming }
  }, [id])
  const live = useLive(id, () => api.post<{ token: string }>('/v1/customer-tokens', { customerId: id, ttlSeconds: 3600 }).then((t) => t.token))
  const d = detail.data
  if (d === undefined) return <ErrorLine error={detail.error} />
  const balance = live.balance ?? d.balance
  return (
    <div>
      <h1>{d.customer.name ?? d.customer.id} <small>{d.customer.id}</small></h1>
      <p class="muted">{d.customer.email ?? ''} · {d.customer.timezone} · since {when(d.customer.createdAt)}</p>
      <Section title="Subscription">
        <Table testId="subscriptions" head={['id', 'plan', 'status', 'current period']} empty="Not subscribed."
          rows={d.subscriptions.data.map((s) => [s.id, s.plan, s.status, s.currentPeriodStart && s.currentPeriodEnd ? `${s.currentPeriodStart.slice(0, 10)} – ${s.currentPeriodEnd.slice(0, 10)}` : '—'])} />
      </Section>
      <Section title="Usage, last 30 days" actions={<span class="pill" data-state={live.state} data-testid="live-state">{live.state}</span>}>
        <div class="cards">
          {d.usage.map((u) => (
            <div class="card" key={u.meter} data-meter={u.meter}><span>{u.meter}</span><strong class="value">{live.usage[u.meter] ?? u.value ?? '—'}</strong></div>
          ))}
        </div>
      </Section>
      <Section title="Credits" actions={<button onClick={() => api.download(`/v1/exports/ledger.csv?customerId=${enc(id)}`, `ledger-${id}.csv`)}>Ledger CSV</button>}>
        <p>Balance <strong data-testid="balance">{balance.balance}</strong> · available <strong data-testid="available">{balance.available}</strong> · reserved {balance.reserved}</p>
        <Table head={['grant', 'credits', 'remaining', 'priority', 'expires']} empty="No grants."
          rows={d.balance.grants.map((g) => [g.id, g.credits, g.remaining, g.priority, when(g.expiresAt)])} />
        <Table testId="ledger" head={['entry', 'type', 'credits', 'balance after', 'at', 'source']}
          rows={d.ledger.data.map((e) => [e.id, e.type, e.credits, e.balanceAfter, when(e.at), e.eventIds?.join(', ') ?? e.reason ?? ''])} />
      </Section>
      <Section title="Invoices">
        <InvoiceTable testId="customer-invoices" invoices={d.invoices.data} href={(i) => `#/invoices/${enc(i.id)}`} />
        {d.upcoming && <p data-testid="upcoming">Upcoming: {d.upcoming.total} {d.upcoming.currency} for {d.upcoming.periodStart.slice(0, 10)} – {d.upcoming.periodEnd.slice(0, 10)}</p>}
      </Section>
    </div>
  )
}
