// OpenTelemetry traces, off unless asked for (`--otel`): the SDK is loaded only then. Spans go to
// an OTLP/HTTP endpoint configured the standard way (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, default http://localhost:4318), batched in the background.
import type { Tracer } from '@opentelemetry/api'

export interface Tracing {
  tracer: Tracer
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>
}

export async function startTracing(options: { serviceName?: string; serviceVersion?: string } = {}): Promise<Tracing> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, semconv] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ])
  const provider = new NodeTracerProvider({
    // OTEL_SERVICE_NAME, when set, still wins: the SDK merges the environment's resource over this.
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? options.serviceName ?? 'meterkit-collector',
      ...(options.serviceVersion === undefined ? {} : { [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion }),
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  })
  // Registers the W3C trace-context propagator too, so an incoming `traceparent` is continued.
  provider.register()
  return { tracer: provider.getTracer('@meterkit/collector', options.serviceVersion), shutdown: () => provider.shutdown() }
}
