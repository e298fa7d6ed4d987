// A meter compiled for evaluation: which events it counts, and what each one contributes.
import type { Aggregation, JsonValue, MeterConfig } from '@meterkit/protocol'
import { type Numeric, toNumeric } from '../decimal.js'
import { canonicalJson } from '../json.js'
import type { EventSource } from '../store/port.js'

export interface CompiledMeter {
  key: string
  event: string
  aggregation: Aggregation
  config: MeterConfig
  valuePath: string[] | undefined
  filters: { path: string[]; values: Set<string> }[]
  groupBy: string[]
  groupPaths: string[][]
  sources: Set<'server' | 'browser'>
}

/** What one event adds to a meter: its group, and its value (number or unique value). */
export interface Contribution {
  groupKey: string
  /** For sum, min, max, latest, avg. */
  value: Numeric | undefined
  /** For unique_count: the value's JSON form (5 and "5" differ). */
  unique: string | undefined
}

export function compileMeter(config: MeterConfig): CompiledMeter {
  return {
    key: config.key,
    event: config.event,
    aggregation: config.aggregation,
    config,
    valuePath: config.property?.split('.'),
    filters: Object.entries(config.filter ?? {}).map(([path, values]) => ({
      path: path.split('.'),
      values: new Set(values.map((v) => canonicalJson(v))),
    })),
    groupBy: config.groupBy ?? [],
    groupPaths: (config.groupBy ?? []).map((p) => p.split('.')),
    sources: new Set(config.sources ?? ['server']),
  }
}

export function valueAt(properties: JsonValue, path: readonly string[]): JsonValue | undefined {
  let value: JsonValue | undefined = properties
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    value = Object.hasOwn(value, key) ? value[key] : undefined
  }
  return value
}

/** Imported events are the tenant's own backfill: they count as server events. */
function countsAs(source: EventSource): 'server' | 'browser' {
  return source === 'browser' ? 'browser' : 'server'
}

/**
 * The event's contribution to the meter, or undefined when the meter does not count it: another
 * event name or source, a filter that does not match, or no usable value for the aggregation.
 */
export function contribution(
  meter: CompiledMeter,
  event: string,
  source: EventSource,
  properties: JsonValue,
): Contribution | undefined {
  if (event !== meter.event || !meter.sources.has(countsAs(source))) return undefined
  for (const f of meter.filters) {
    const v = valueAt(properties, f.path)
    if (v === undefined || !f.values.has(canonicalJson(v))) return undefined
  }
  const groupKey = meter.groupPaths.length === 0
    ? ''
    : JSON.stringify(meter.groupPaths.map((p) => groupValue(valueAt(properties, p))))
  switch (meter.aggregation) {
    case 'count':
      return { groupKey, value: undefined, unique: undefined }
    case 'unique_count': {
      const v = valueAt(properties, meter.valuePath!)
      return v === undefined || v === null ? undefined : { groupKey, value: undefined, unique: canonicalJson(v) }
    }
    default: {
      const value = toNumeric(valueAt(properties, meter.valuePath!))
      return value === undefined ? undefined : { groupKey, value, unique: undefined }
    }
  }
}

/** Group values are strings, numbers, booleans or null; objects and arrays group by their JSON. */
function groupValue(v: JsonValue | undefined): string | number | boolean | null {
  if (v === undefined || v === null) return null
  return typeof v === 'object' ? canonicalJson(v) : v
}
