// The overview: revenue by month (invoiced, paid, due), usage revenue by meter and by plan,
// credits granted, burned and expired, active customers, and the ingest rate.
import type { Api } from './api.js'
import { Chart } from './chart.js'
import { plotNumber } from './format.js'
import { ErrorLine, Section, Table, useLoad } from './ui.js'

interface Month { month: string; start: string; end: string }
interface Revenue { data: (Month & { totals: { currency: string; invoiced: string; paid: string; due: string; invoices: number }[] })[] }
interface UsageRevenue { data: { plan?: string; meter?: string | null; currency: string; amount: string; credits: string; lines: number }[] }
interface Credits { data: (Month & { granted: string; burned: string; expired: string; voided: string })[] }
interface Active { data: (Month & { customers: number })[] }
interface Ingest { data: { start: string; end: string; events: number }[] }

export function Overview(props: { api: Api }) {
  const { api } = props
  const report = useLoad(async () => {
    const [revenue, byMeter, byPlan, credits, active, ingest] = await Promise.all([
      api.get<Revenue>('/v1/reports/revenue'),
      api.get<UsageRevenue>('/v1/reports/usage-revenue?groupBy=meter'),
      api.get<UsageRevenue>('/v1/reports/usage-revenue?groupBy=plan'),
      api.get<Credits>('/v1/reports/credits'),
      api.get<Active>('/v1/reports/active-customers'),
      api.get<Ingest>('/v1/reports/ingest'),
    ])
    return { revenue, byMeter, byPlan, credits, active, ingest }
  }, [])
  const r = report.data
  if (r === undefined) return <ErrorLine error={report.error} />
  const x = r.revenue.data.map((m) => Date.parse(m.start))
  const currencies = [...new Set(r.revenue.data.flatMap((m) => m.totals.map((t) => t.currency)))]
  const lastActive = r.active.data[r.active.data.length - 1]
  const ingestTotal = r.ingest.data.reduce((s, p) => s + p.events, 0)
  return (
    <div class="overview">
      <div class="cards">
        <div class="card"><span>Active customers this month</span><strong data-testid="active-customers">{lastActive?.customers ?? 0}</strong></div>
        <div class="card"><span>Events, last 24 hours</span><strong data-testid="ingest-total">{ingestTotal}</strong></div>
      </div>
      {currencies.map((cur) => (
        <Section key={cur} title={`Revenue by month (${cur})`}>
          <Chart title="Invoiced, paid and due" x={x} testId={`revenue-chart-${cur}`} series={[
            { label: 'invoiced', color: '#3b6fd4', values: r.revenue.data.map((m) => plotNumber(m.totals.find((t) => t.currency === cur)?.invoiced)) },
            { label: 'paid', color: '#2e9e5b', values: r.revenue.data.map((m) => plotNumber(m.totals.find((t) => t.currency === cur)?.paid)) },
            { label: 'due', color: '#d98b2b', values: r.revenue.data.map((m) => plotNumber(m.totals.find((t) => t.currency === cur)?.due)) },
          ]} />
          <Table testId={`revenue-${cur}`} head={['month', 'invoices', 'invoiced', 'paid', 'due']} rows={r.revenue.data.map((m) => {
            const t = m.totals.find((v) => v.currency === cur)!
            return [m.month, t.invoices, <span data-cell="invoiced">{t.invoiced}</span>, <span data-cell="paid">{t.paid}</span>, <span data-cell="due">{t.due}</span>]
          })} />
        </Section>
      ))}
      {currencies.length === 0 && <Section title="Revenue by month"><p class="empty">No final invoices in the last twelve months.</p></Section>}
      <div class="two">
        <Section title="Usage revenue by meter">
          <Table testId="usage-by-meter" head={['meter', 'amount', 'credits', 'lines']}
            rows={r.byMeter.data.map((u) => [u.meter ?? 'credit overage', `${u.amount} ${u.currency}`, u.credits, u.lines])} />
        </Section>
        <Section title="Usage revenue by plan">
          <Table testId="usage-by-plan" head={['plan', 'amount', 'credits', 'lines']}
            rows={r.byPlan.data.map((u) => [u.plan, `${u.amount} ${u.currency}`, u.credits, u.lines])} />
        </Section>
      </div>
      <Section title="Credits by month">
        <Chart title="Granted, burned and expired" x={r.credits.data.map((m) => Date.parse(m.start))} testId="credits-chart" series={[
          { label: 'granted', color: '#3b6fd4', values: r.credits.data.map((m) => plotNumber(m.granted)) },
          { label: 'burned', color: '#c0392b', values: r.credits.data.map((m) => plotNumber(m.burned)) },
          { label: 'expired', color: '#888888', values: r.credits.data.map((m) => plotNumber(m.expired)) },
        ]} />
        <Table testId="credits" head={['month', 'granted', 'burned', 'expired', 'voided']}
          rows={r.credits.data.map((m) => [m.month, m.granted, m.burned, m.expired, m.voided])} />
      </Section>
      <div class="two">
        <Section title="Active customers">
          <Chart title="Customers with a subscription in effect" kind="bars" x={r.active.data.map((m) => Date.parse(m.start))}
            series={[{ label: 'customers', color: '#6c4fc2', values: r.active.data.map((m) => m.customers) }]} />
        </Section>
        <Section title="Ingest rate">
          <Chart title="Events per hour (event time)" x={r.ingest.data.map((p) => Date.parse(p.start))} testId="ingest-chart"
            series={[{ label: 'events', color: '#2e9e5b', values: r.ingest.data.map((p) => p.events) }]} />
        </Section>
      </div>
    </div>
  )
}
