// `meterkit start --otel`: a server span per request reaches an OTLP/HTTP receiver, continuing
// the caller's trace (W3C traceparent), and buffered spans are sent when the collector drains.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ADMIN_KEY, postEvents, startCollector, tempDir } from '../support/collector-process.js'
import { join } from 'node:path'

interface OtlpSpan { traceId: string; parentSpanId?: string; name: string; kind: number; attributes: { key: string; value: Record<string, unknown> }[] }
interface OtlpBody { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
afterEach(() => {
  if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = saved
})

describe('OpenTelemetry traces', () => {
  it('exports a server span per request, in the trace the caller started', async () => {
    const bodies: OtlpBody[] = []
    const receiver = createServer((req, res) => {
      let raw = ''
      req.on('data', (c) => (raw += c))
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(JSON.parse(raw) as OtlpBody)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`
    try {
      const collector = await startCollector(join(tempDir('meterkit-otel-'), 'meterkit.db'), ['--otel'])
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
      const res = await fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: JSON.stringify({ events: [{ id: 'otel-1', event: 'render.completed', customerId: 'cus_1', timestamp: new Date().toISOString() }] }),
      })
      expect(res.status).toBe(200)
      expect((await postEvents(collector.url, [])).status).toBe(400)
      // Draining sends what the batch processor still holds.
      collector.child.kill('SIGTERM')
      expect(await collector.exited).toBe(0)

      const spans = bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)))
      const ingest = spans.find((s) => s.traceId === traceId)
      expect(ingest).toMatchObject({ name: 'POST /v1/events', parentSpanId: '00f067aa0ba902b7', kind: 2 })
      const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value
      expect(attr(ingest!, 'http.response.status_code')).toEqual({ intValue: 200 })
      expect(attr(ingest!, 'meterkit.request_id')).toEqual({ stringValue: expect.stringMatching(/^[0-9a-f-]{36}$/) })
      // A request without traceparent starts its own trace.
      const rejected = spans.find((s) => s.traceId !== traceId && s.name === 'POST /v1/events')
      expect(attr(rejected!, 'http.response.status_code')).toEqual({ intValue: 400 })
      const service = bodies[0]!.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name')
      expect(service?.value.stringValue).toBe('meterkit-collector')
    } finally {
      receiver.close()
    }
  })
})
