// Plans and meters: the configuration in effect and every version before it, and a simulation of a
// candidate plan over a past range with the difference per customer.
import { useState } from 'preact/hooks'
import type { Api, Page } from './api.js'
import { when } from './format.js'
import { ErrorLine, Section, Table, formFields, useLoad } from './ui.js'

interface Meter { key: string; event: string; aggregation: string; property?: string; groupBy?: string[]; filter?: unknown }
interface Plan { key: string; name?: string; currency: string; interval: string; charges: { key: string; model: string; meter?: string; unit?: string }[] }
interface Config { version: number; appliedAt: string | null; config: { meters: Meter[]; plans: Plan[]; features?: { key: string; type: string }[] } }
interface Version { version: number; appliedAt: string; keyId: string | null; config: Config['config'] }
interface Simulation { data: { customerId: string; currency: string; actual: string; simulated: string; difference: string }[] }

export function Plans(props: { api: Api }) {
  const { api } = props
  const config = useLoad(() => api.get<Config>('/v1/config'), [])
  const versions = useLoad(() => api.get<Page<Version>>('/v1/config/versions?limit=50'), [])
  const [sim, setSim] = useState<Simulation | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const c = config.data
  if (c === undefined) return <ErrorLine error={config.error} />
  const simulate = (f: Record<string, string>) => {
    let plan: unknown = f.plan
    if (f.candidate?.trim()) {
      try {
        plan = JSON.parse(f.candidate)
      } catch {
        return setError('candidate plan: must be JSON')
      }
    }
    api.post<Simulation>('/v1/simulations', { plan, from: new Date(f.from!).toISOString(), to: new Date(f.to!).toISOString() })
      .then((s) => { setError(undefined); setSim(s) }, (e: Error) => setError(e.message))
  }
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 16)
  const now = new Date().toISOString().slice(0, 16)
  return (
    <div>
      <h1>Plans and meters <small data-testid="config-version">version {c.version}</small></h1>
      <p class="muted">Applied {when(c.appliedAt)}; every version is kept (apply with <code>meterkit apply FILE</code>), listed below.</p>
      <Section title="Meters">
        <Table testId="meters" head={['key', 'event', 'aggregation', 'property', 'group by', 'filter']}
          rows={c.config.meters.map((m) => [m.key, m.event, m.aggregation, m.property ?? '', (m.groupBy ?? []).join(', '), m.filter ? JSON.stringify(m.filter) : ''])} />
      </Section>
      <Section title="Plans">
        {c.config.plans.map((p) => (
          <details key={p.key} open>
            <summary><strong>{p.name ?? p.key}</strong> · {p.currency} · every {p.interval}</summary>
            <Table head={['charge', 'model', 'meter', 'unit']} rows={p.charges.map((ch) => [ch.key, ch.model, ch.meter ?? '', ch.unit ?? p.currency])} />
          </details>
        ))}
      </Section>
      <Section title="Versions">
        <ErrorLine error={versions.error} />
        <Table testId="config-versions" head={['version', 'applied', 'by key', 'meters', 'plans', '']}
          rows={(versions.data?.data ?? []).map((v) => [v.version, when(v.appliedAt), v.keyId ?? '', v.config.meters.length, v.config.plans.map((p) => p.key).join(', '),
            <details><summary>configuration</summary><pre>{JSON.stringify(v.config, null, 2)}</pre></details>])} />
      </Section>
      <Section title="Simulate a candidate plan">
        <form data-testid="simulation-form" onSubmit={(e) => simulate(formFields(e))}>
          <label>Plan <select name="plan">{c.config.plans.map((p) => <option key={p.key}>{p.key}</option>)}</select></label>
          <label>or a candidate plan (JSON) <textarea name="candidate" rows={4} placeholder='{"key":"pro-2027","currency":"USD","interval":"month","charges":[…]}' /></label>
          <label>from <input name="from" type="datetime-local" defaultValue={monthAgo} required /></label>
          <label>to <input name="to" type="datetime-local" defaultValue={now} required /></label>
          <button type="submit">Simulate</button>
        </form>
        <ErrorLine error={error} />
        {sim && <Table testId="simulation" head={['customer', 'actual', 'simulated', 'difference']}
          rows={sim.data.map((r) => [r.customerId, `${r.actual} ${r.currency}`, `${r.simulated} ${r.currency}`, `${r.difference} ${r.currency}`])} />}
      </Section>
    </div>
  )
}
