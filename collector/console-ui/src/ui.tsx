// Shared pieces of the pages: loading data with its error, tables, and the error line.
import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'

export interface Loaded<T> {
  data: T | undefined
  error: string | undefined
  reload: () => void
}

/** Runs `load` when `deps` change; the result, or the error's message. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [n, setN] = useState(0)
  useEffect(() => {
    let live = true
    setError(undefined)
    load().then((d) => live && setData(d), (e: Error) => live && setError(e.message))
    return () => {
      live = false
    }
  }, [...deps, n])
  return { data, error, reload: useCallback(() => setN((x) => x + 1), []) }
}

export function ErrorLine(props: { error: string | undefined }) {
  return props.error === undefined ? null : <p class="error" role="alert">{props.error}</p>
}

export function Table(props: { head: string[]; rows: ComponentChildren[][]; testId?: string; empty?: string }) {
  if (props.rows.length === 0) return <p class="empty" data-testid={props.testId}>{props.empty ?? 'Nothing yet.'}</p>
  return (
    <table data-testid={props.testId}>
      <thead><tr>{props.head.map((h) => <th key={h}>{h}</th>)}</tr></thead>
      <tbody>{props.rows.map((r, i) => <tr key={i}>{r.map((cell, j) => <td key={j}>{cell}</td>)}</tr>)}</tbody>
    </table>
  )
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section>
      <header class="section-head"><h2>{props.title}</h2>{props.actions}</header>
      {props.children}
    </section>
  )
}

/** A form's fields by name, as strings. */
export function formFields(e: Event): Record<string, string> {
  e.preventDefault()
  const out: Record<string, string> = {}
  new FormData(e.currentTarget as HTMLFormElement).forEach((v, k) => (out[k] = String(v)))
  return out
}
