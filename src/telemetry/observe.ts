/**
 * One span and one set of measurements per MCP request, on either side. A server span (kind
 * SERVER) takes its parent from the request's `params._meta` (SEP-414 `traceparent`,
 * `tracestate`, `baggage`, read by the configured propagator), else from the trace context the
 * binding read from headers (`MessageContext.trace`), else the active context; the active context,
 * when it has a span of its own (an HTTP server span), is linked. A client span (kind CLIENT) is
 * injected into the `_meta` of the request it covers. Both end with the conventions' error
 * attributes: `error.type` (the JSON-RPC code, `tool_error`, or the local error code) and
 * `rpc.response.status_code`, status ERROR with the error message.
 * @module
 */
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Era } from '../protocol/eras.js';
import type { TraceContext } from '../protocol/transport.js';
import type { JsonObject } from '../protocol/types.js';
import type { Outcome } from './attributes.js';
import { addBinding, ATTR, describeRequest, errorOutcome, resultOutcome } from './attributes.js';
import type { Instruments } from './instruments.js';
import { activeInstruments, activeTracer, metaGetter, metaSetter, metricAttributes } from './instruments.js';

/** What a server knows of one inbound request. */
export interface ServerRequestInfo {
  era: Era;
  method: string;
  params: JsonObject | undefined;
  /** The JSON-RPC id. */
  id: string | number | null;
  /** The binding's name (`MessageContext.binding`). */
  binding?: string;
  /** The protocol revision (modern: the `_meta` claim; legacy: the session's). */
  protocolVersion?: string;
  /** The legacy session id. */
  sessionId?: string;
  /** Trace context the binding read from headers or metadata. */
  trace?: TraceContext;
}

/** What a client knows of one outbound request. */
export interface ClientRequestInfo {
  era?: Era;
  method: string;
  params: JsonObject | undefined;
  binding?: string;
  protocolVersion?: string;
  sessionId?: string;
  /** The parent of the client span (default: the active context). */
  parent?: Context;
}

/**
 * Where `@opentelemetry/api` 1.x keeps what an SDK registers (tracer, meter and propagator
 * providers, context manager): absent until the first registration, whichever copy of the API
 * made it.
 */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const GLOBAL = globalThis as unknown as Record<symbol, unknown>;

/**
 * True when an SDK installed a tracer or meter provider. Without any registration this is one
 * property read; with one, two identity checks against the API's no-op providers.
 */
export function telemetryActive(): boolean {
  if (GLOBAL[API_GLOBAL] === undefined) return false;
  return activeTracer() !== undefined || activeInstruments() !== undefined;
}

const now = (): number => globalThis.performance.now();

function finish(
  span: Span | undefined,
  attrs: Attributes,
  outcome: Outcome | undefined,
  started: number,
  inst: Instruments | undefined,
  side: 'server' | 'client',
): void {
  if (outcome?.errorType !== undefined) {
    attrs[ATTR.errorType] = outcome.errorType;
    if (outcome.statusCode !== undefined) attrs[ATTR.statusCode] = outcome.statusCode;
  }
  // A name the server does not know (-32601, -32602) came from the caller, unchecked: keep it out
  // of span names and metric series, whose cardinality a caller must not control.
  const unchecked = outcome?.errorType === '-32602' || outcome?.errorType === '-32601';
  if (span) {
    if (unchecked) span.updateName(String(attrs[ATTR.method]));
    span.setAttributes(attrs);
    if (outcome?.errorType !== undefined)
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message ?? outcome.errorType });
    span.end();
  }
  if (inst) {
    const m = metricAttributes(attrs);
    if (outcome?.errorType !== undefined) m[ATTR.errorType] = outcome.errorType;
    if (unchecked) {
      delete m[ATTR.toolName];
      delete m[ATTR.promptName];
    }
    const seconds = (now() - started) / 1000;
    if (side === 'server') {
      inst.serverDuration.record(seconds, m);
      inst.serverRequests.add(1, m);
      if (outcome?.errorType !== undefined) inst.serverErrors.add(1, m);
    } else {
      inst.clientDuration.record(seconds, m);
      inst.clientRequests.add(1, m);
      if (outcome?.errorType !== undefined) inst.clientErrors.add(1, m);
    }
  }
}

/** The parent context of a server span, and the link to the ambient span when there is one. */
function serverParent(
  params: JsonObject | undefined,
  binding: TraceContext | undefined,
): { parent: Context; links: Link[] | undefined } {
  const active = context.active();
  const meta = params?._meta;
  let carrier: Record<string, unknown> | undefined;
  if (meta && typeof meta === 'object' && Object.prototype.hasOwnProperty.call(meta, 'traceparent'))
    carrier = meta as Record<string, unknown>;
  else if (binding) carrier = binding as unknown as Record<string, unknown>;
  if (!carrier) return { parent: active, links: undefined };
  const parent = propagation.extract(ROOT_CONTEXT, carrier, metaGetter);
  const ambient = trace.getSpanContext(active);
  const links = ambient && trace.isSpanContextValid(ambient) ? [{ context: ambient }] : undefined;
  return { parent: trace.getSpanContext(parent) ? parent : active, links };
}

/**
 * Runs one inbound request inside a SERVER span and records its metrics. `run` gets the span's
 * context (also made active for it), so that work it starts can name its parent explicitly.
 * Costs two identity checks when no SDK is installed.
 */
export function observeServerRequest(
  info: ServerRequestInfo,
  run: (ctx: Context | undefined) => Promise<JsonObject>,
): Promise<JsonObject> {
  if (GLOBAL[API_GLOBAL] === undefined) return run(undefined);
  const tracer = activeTracer();
  const inst = activeInstruments();
  if (!tracer && !inst) return run(undefined);
  const attrs: Attributes = {};
  const name = describeRequest(info.method, info.params, attrs);
  attrs[ATTR.requestId] = String(info.id);
  attrs[ATTR.era] = info.era;
  addBinding(attrs, info.binding);
  if (info.protocolVersion) attrs[ATTR.protocolVersion] = info.protocolVersion;
  if (info.sessionId !== undefined) attrs[ATTR.sessionId] = info.sessionId;
  const started = now();
  let span: Span | undefined;
  let ctx: Context | undefined;
  if (tracer) {
    const { parent, links } = serverParent(info.params, info.trace);
    span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: attrs, links }, parent);
    ctx = trace.setSpan(parent, span);
  }
  let pending: Promise<JsonObject>;
  try {
    pending = ctx ? context.with(ctx, run, undefined, ctx) : run(undefined);
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(
    (result) => {
      if (info.method === 'initialize' && typeof result.protocolVersion === 'string')
        attrs[ATTR.protocolVersion] = result.protocolVersion;
      finish(span, attrs, resultOutcome(result, attrs), started, inst, 'server');
      return result;
    },
    (error: unknown) => {
      finish(span, attrs, errorOutcome(error, 'server'), started, inst, 'server');
      throw error;
    },
  );
}

/**
 * Sends one outbound request inside a CLIENT span and records its metrics: `send` gets the params
 * to put on the wire, whose `_meta` carries the span's trace context when a propagator is
 * configured, and returns the response promise; `requestId` is read after `send` returned (the
 * id the peer assigned). Costs two identity checks when no SDK is installed.
 */
export function observeClientRequest(
  info: ClientRequestInfo,
  send: (params: JsonObject | undefined) => Promise<JsonObject>,
  requestId?: () => string | number | undefined,
): Promise<JsonObject> {
  if (GLOBAL[API_GLOBAL] === undefined) return send(info.params);
  const tracer = activeTracer();
  const inst = activeInstruments();
  if (!tracer && !inst) return send(info.params);
  const attrs: Attributes = {};
  const name = describeRequest(info.method, info.params, attrs);
  if (info.era) attrs[ATTR.era] = info.era;
  addBinding(attrs, info.binding);
  if (info.protocolVersion) attrs[ATTR.protocolVersion] = info.protocolVersion;
  if (info.sessionId !== undefined) attrs[ATTR.sessionId] = info.sessionId;
  const started = now();
  let span: Span | undefined;
  let params = info.params;
  if (tracer) {
    const parent = info.parent ?? context.active();
    span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: attrs }, parent);
    const meta: Record<string, unknown> = { ...(params?._meta as JsonObject | undefined) };
    // A traceparent relayed from elsewhere (a proxy's downstream) is replaced by this span's.
    for (const k of ['traceparent', 'tracestate', 'baggage']) delete meta[k];
    propagation.inject(trace.setSpan(parent, span), meta, metaSetter);
    if (params?._meta !== undefined || Object.keys(meta).length > 0)
      params = { ...params, _meta: meta as JsonObject };
  }
  let pending: Promise<JsonObject>;
  try {
    pending = send(params);
  } catch (error) {
    pending = Promise.reject(error);
  }
  const id = requestId?.();
  if (id !== undefined) attrs[ATTR.requestId] = String(id);
  return pending.then(
    (result) => {
      if (info.method === 'initialize' && typeof result.protocolVersion === 'string')
        attrs[ATTR.protocolVersion] = result.protocolVersion;
      finish(span, attrs, resultOutcome(result, attrs), started, inst, 'client');
      return result;
    },
    (error: unknown) => {
      finish(span, attrs, errorOutcome(error, 'client'), started, inst, 'client');
      throw error;
    },
  );
}

/** The spans of one request a proxy relays, ended by {@link Relay.end}. */
export interface Relay {
  /** The params to send upstream (`_meta` carrying the proxy's client span). */
  readonly params: JsonObject | undefined;
  /** Ends both spans with the upstream answer: a result, or an error (a JSON-RPC error object or an Error). */
  end(outcome: { result: JsonObject } | { error: unknown }): void;
}

/**
 * The spans of a request relayed message for message (the bridge's splice): a SERVER span for the
 * downstream request (parent from its `_meta`) and a CLIENT span, its child, for the upstream one,
 * whose context replaces the trace context in `_meta`. `undefined` when no SDK is installed.
 */
export function startRelay(
  info: ServerRequestInfo & { upstreamBinding?: string; upstreamSessionId?: string },
): Relay | undefined {
  if (!telemetryActive()) return undefined;
  let resolveServer!: (r: JsonObject) => void;
  let rejectServer!: (e: unknown) => void;
  let params = info.params;
  let resolveClient!: (r: JsonObject) => void;
  let rejectClient!: (e: unknown) => void;
  const upstream = new Promise<JsonObject>((resolve, reject) => {
    resolveClient = resolve;
    rejectClient = reject;
  });
  void observeServerRequest(
    info,
    (ctx) =>
      new Promise<JsonObject>((resolve, reject) => {
        resolveServer = resolve;
        rejectServer = reject;
        void observeClientRequest(
          {
            era: info.era,
            method: info.method,
            params: info.params,
            binding: info.upstreamBinding,
            protocolVersion: info.protocolVersion,
            sessionId: info.upstreamSessionId,
            parent: ctx,
          },
          (sent) => {
            params = sent;
            return upstream;
          },
          () => info.id ?? undefined,
        ).catch(() => {});
      }),
  ).catch(() => {});
  return {
    get params() {
      return params;
    },
    end(outcome) {
      if ('result' in outcome) {
        resolveClient(outcome.result);
        resolveServer(outcome.result);
      } else {
        rejectClient(outcome.error);
        rejectServer(outcome.error);
      }
    },
  };
}
