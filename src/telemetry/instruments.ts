/**
 * The tracer, the metric instruments and the `_meta` carrier, all through `@opentelemetry/api`.
 * Nothing is recorded unless the application installed an SDK: {@link activeTracer} and
 * {@link activeInstruments} answer `undefined` while the global providers are the API's no-ops, so
 * a request then costs two identity checks. Providers registered later are picked up on the next
 * request (instruments are rebuilt when the global meter provider changes).
 * @module
 */
import type {
  Attributes,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  ObservableUpDownCounter,
  TextMapGetter,
  TextMapSetter,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import { createNoopMeter, metrics, ProxyTracerProvider, trace } from '@opentelemetry/api';

/** The instrumentation scope name of every span and metric. */
export const SCOPE = 'anywire';

/** Metric names: the conventions' duration histograms, and anywire's counters. */
export const METRICS = {
  serverDuration: 'mcp.server.operation.duration',
  clientDuration: 'mcp.client.operation.duration',
  serverRequests: 'anywire.server.requests',
  serverErrors: 'anywire.server.errors',
  clientRequests: 'anywire.client.requests',
  clientErrors: 'anywire.client.errors',
  serverSessionDuration: 'mcp.server.session.duration',
  clientSessionDuration: 'mcp.client.session.duration',
  sessions: 'anywire.server.sessions',
  streams: 'anywire.server.streams',
} as const;

/** The conventions' bucket boundaries for operation durations, in seconds. */
const DURATION_BUCKETS_S = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

const NOOP_TRACER_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();
const NOOP_HISTOGRAM: Histogram = createNoopMeter().createHistogram('noop');

let tracerFor: TracerProvider | undefined;
let tracer: Tracer | undefined;

/** The tracer, or `undefined` while no tracer provider is registered. */
export function activeTracer(): Tracer | undefined {
  const global = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
  if (provider === NOOP_TRACER_PROVIDER) return undefined;
  if (provider !== tracerFor) {
    tracerFor = provider;
    tracer = provider.getTracer(SCOPE);
  }
  return tracer;
}

/** The instruments of one meter. */
export interface Instruments {
  serverDuration: Histogram;
  clientDuration: Histogram;
  serverRequests: Counter;
  serverErrors: Counter;
  clientRequests: Counter;
  clientErrors: Counter;
  serverSessionDuration: Histogram;
  clientSessionDuration: Histogram;
}

/** What the session and stream gauges read: a server's session hub. */
export interface HubView {
  readonly sessions: { readonly size: number };
  readonly listens: { readonly size: number };
}

const hubs = new Set<WeakRef<HubView>>();
let instrumentsFor: MeterProvider | undefined;
let instruments: Instruments | undefined;
let gauges: ObservableUpDownCounter[] = [];

function build(meter: Meter): Instruments | undefined {
  const serverDuration = meter.createHistogram(METRICS.serverDuration, {
    unit: 's',
    description: 'MCP request duration as observed on the receiver, until the result or error is sent.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  if (serverDuration === NOOP_HISTOGRAM) return undefined;
  const sessions = meter.createObservableUpDownCounter(METRICS.sessions, {
    unit: '{session}',
    description: 'Open legacy (initialize) sessions.',
  });
  const streams = meter.createObservableUpDownCounter(METRICS.streams, {
    unit: '{stream}',
    description: 'Open subscriptions/listen streams.',
  });
  meter.addBatchObservableCallback(
    (observer) => {
      let s = 0;
      let l = 0;
      for (const ref of hubs) {
        const hub = ref.deref();
        if (!hub) {
          hubs.delete(ref);
          continue;
        }
        s += hub.sessions.size;
        l += hub.listens.size;
      }
      observer.observe(sessions, s);
      observer.observe(streams, l);
    },
    [sessions, streams],
  );
  gauges = [sessions, streams];
  return {
    serverDuration,
    clientDuration: meter.createHistogram(METRICS.clientDuration, {
      unit: 's',
      description: 'MCP request duration as observed on the sender, until the response is received.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    serverRequests: meter.createCounter(METRICS.serverRequests, {
      unit: '{request}',
      description: 'MCP requests received.',
    }),
    serverErrors: meter.createCounter(METRICS.serverErrors, {
      unit: '{request}',
      description: 'MCP requests answered with an error (error.type says which).',
    }),
    clientRequests: meter.createCounter(METRICS.clientRequests, {
      unit: '{request}',
      description: 'MCP requests sent.',
    }),
    clientErrors: meter.createCounter(METRICS.clientErrors, {
      unit: '{request}',
      description: 'MCP requests that failed (error.type says how).',
    }),
    serverSessionDuration: meter.createHistogram(METRICS.serverSessionDuration, {
      unit: 's',
      description: 'The duration of a legacy MCP session as observed on the server.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    clientSessionDuration: meter.createHistogram(METRICS.clientSessionDuration, {
      unit: 's',
      description: 'The duration of an MCP session (connect to close) as observed on the client.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
  };
}

/** The metric instruments, or `undefined` while no meter provider is registered. */
export function activeInstruments(): Instruments | undefined {
  const provider = metrics.getMeterProvider();
  if (provider !== instrumentsFor) {
    instrumentsFor = provider;
    gauges = [];
    instruments = build(provider.getMeter(SCOPE));
  }
  return instruments;
}

/** Counts `hub`'s sessions and listen streams in the gauges while it lives (held weakly). */
export function watchHub(hub: HubView): void {
  hubs.add(new WeakRef(hub));
  activeInstruments();
}

/** True when the gauges exist (for tests of the no-SDK path). */
export function gaugesActive(): boolean {
  return gauges.length > 0;
}

/** The metric attributes of a span's attributes: the low-cardinality ones the conventions list. */
export function metricAttributes(span: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of METRIC_KEYS) if (span[key] !== undefined) out[key] = span[key];
  return out;
}

const METRIC_KEYS = [
  'mcp.method.name',
  'mcp.protocol.version',
  'gen_ai.tool.name',
  'gen_ai.prompt.name',
  'gen_ai.operation.name',
  'network.transport',
  'network.protocol.name',
  'network.protocol.version',
  'anywire.binding',
  'anywire.era',
];

const CARRIER_KEYS = ['traceparent', 'tracestate', 'baggage'];

/**
 * Reads trace context from a `_meta` object: own string properties only (the object comes from the
 * wire). SEP-414 puts `traceparent`, `tracestate` and `baggage` there unprefixed.
 */
export const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => CARRIER_KEYS.filter((k) => Object.prototype.hasOwnProperty.call(carrier, k)),
  get: (carrier, key) => {
    if (!Object.prototype.hasOwnProperty.call(carrier, key)) return undefined;
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
};

/** Writes trace context into a `_meta` object. */
export const metaSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
