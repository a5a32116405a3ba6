/**
 * OpenTelemetry through `@opentelemetry/api`: with an SDK installed (BasicTracerProvider with an
 * in-memory exporter, W3C propagators, the AsyncLocalStorage context manager, a MeterProvider read
 * on demand), one trace crosses the client, the bridge (McpProxy behind serveHttp, in process) and
 * the server, in both eras: client span → bridge SERVER span → bridge CLIENT span → server span,
 * parent by parent, with the MCP semantic-convention names and attributes. Errors carry
 * `error.type`; metrics count requests, errors, durations, sessions and listen streams. Without an
 * SDK nothing is added to `_meta`.
 */
import type { Span } from '@opentelemetry/api';
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HistogramMetricData, MetricData, SumMetricData } from '@opentelemetry/sdk-metrics';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bindingFor } from '../src/bindings/registry.js';
import { McpProxy } from '../src/bridge/proxy.js';
import { transportForUrl } from '../src/connect.js';
import { InMemoryTransport } from '../src/transports/in-memory/index.js';
import { Client } from '../src/client/client.js';
import { JsonRpcError } from '../src/jsonrpc/errors.js';
import type { JsonObject } from '../src/protocol/types.js';
import { McpServer } from '../src/server/mcp-server.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import { telemetryActive } from '../src/telemetry/observe.js';

/** What the upstream server saw in `_meta` of each tools/call. */
const seenMeta: JsonObject[] = [];

function upstreamServer(): McpServer {
  const server = new McpServer({ name: 'otel-upstream', version: '1.0.0' });
  server.use(async (ctx, next) => {
    if (ctx.method === 'tools/call') seenMeta.push({ ...(ctx.params._meta as JsonObject | undefined) });
    return next();
  });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => text);
  server.registerTool('broken', {}, () => ({ content: [{ type: 'text', text: 'no' }], isError: true }));
  server.registerTool('refuse', {}, () => {
    throw new JsonRpcError(-32042, 'refused on purpose');
  });
  server.registerTool('nested', {}, () =>
    trace.getTracer('test').startActiveSpan('inside the tool', (span: Span) => {
      span.end();
      return 'nested';
    }),
  );
  return server;
}

let upstream: HttpServerHandle;
let bridge: HttpServerHandle;
let proxy: McpProxy;
/** The bridge with one upstream connection shared by every downstream one (`anywire bridge --shared`). */
let sharedBridge: HttpServerHandle;
let sharedProxy: McpProxy;

async function connect(url: string, era: 'modern' | 'legacy'): Promise<Client> {
  const client = new Client({ name: 'otel-client', version: '1.0.0' }, { era });
  await client.connect(new StreamableHttpClientTransport({ url }));
  return client;
}

beforeAll(async () => {
  upstream = await serveHttp(upstreamServer(), { port: 0 });
  proxy = new McpProxy(() => new StreamableHttpClientTransport({ url: upstream.url }));
  bridge = await serveHttp(proxy, { port: 0 });
  sharedProxy = new McpProxy(() => new StreamableHttpClientTransport({ url: upstream.url }), {
    shared: true,
  });
  sharedBridge = await serveHttp(sharedProxy, { port: 0 });
});

afterAll(async () => {
  await bridge?.close();
  await proxy?.close();
  await sharedBridge?.close();
  await sharedProxy?.close();
  await upstream?.close();
});

describe('without an SDK', () => {
  it('adds nothing to _meta and records nothing', async () => {
    expect(telemetryActive()).toBe(false);
    const client = await connect(upstream.url, 'modern');
    try {
      seenMeta.length = 0;
      const r = await client.callTool('echo', { text: 'plain' });
      expect(r.content).toEqual([{ type: 'text', text: 'plain' }]);
      expect(seenMeta).toHaveLength(1);
      expect(Object.keys(seenMeta[0]!).filter((k) => !k.startsWith('io.modelcontextprotocol/'))).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('with an SDK installed', () => {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  class OnDemandReader extends MetricReader {
    protected override onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
    protected override onShutdown(): Promise<void> {
      return Promise.resolve();
    }
  }
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  });

  afterAll(async () => {
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });

  const byName = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  const id = (s: ReadableSpan) => s.spanContext().spanId;

  /** The four spans of one tools/call through the bridge, found by their parent links. */
  function chain(name: string) {
    const spans = byName(name);
    const client = spans.find((s) => s.kind === SpanKind.CLIENT && parentOf(s) === undefined);
    expect(client, `a root CLIENT span "${name}" among ${spans.length}`).toBeDefined();
    const bridgeServer = spans.find((s) => s.kind === SpanKind.SERVER && parentOf(s) === id(client!));
    expect(bridgeServer, 'the bridge SERVER span, child of the client span').toBeDefined();
    const bridgeClient = spans.find((s) => s.kind === SpanKind.CLIENT && parentOf(s) === id(bridgeServer!));
    expect(bridgeClient, 'the bridge CLIENT span, child of its SERVER span').toBeDefined();
    const server = spans.find((s) => s.kind === SpanKind.SERVER && parentOf(s) === id(bridgeClient!));
    expect(server, 'the server span, child of the bridge CLIENT span').toBeDefined();
    const all = [client!, bridgeServer!, bridgeClient!, server!];
    expect(new Set(all.map((s) => s.spanContext().traceId)).size).toBe(1);
    return { client: client!, bridgeServer: bridgeServer!, bridgeClient: bridgeClient!, server: server! };
  }

  it('2026-07-28: one trace crosses client → bridge → server, with the conventions’ names and attributes', async () => {
    expect(telemetryActive()).toBe(true);
    const client = await connect(bridge.url, 'modern');
    try {
      exporter.reset();
      seenMeta.length = 0;
      const r = await client.callTool('echo', { text: 'traced' });
      expect(r.content).toEqual([{ type: 'text', text: 'traced' }]);
      const spans = chain('tools/call echo');
      const common = {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'echo',
        'gen_ai.operation.name': 'execute_tool',
        'mcp.protocol.version': '2026-07-28',
        'anywire.era': 'modern',
        'anywire.binding': 'http',
        'network.transport': 'tcp',
        'network.protocol.name': 'http',
      };
      for (const s of Object.values(spans)) {
        expect(s.attributes).toMatchObject(common);
        expect(s.attributes['jsonrpc.request.id']).toMatch(/^\d+$/);
        expect(s.status.code).toBe(SpanStatusCode.UNSET);
      }
      // The upstream request carried the bridge's client span, not the caller's, in _meta (SEP-414).
      const traceparent = seenMeta.at(-1)?.traceparent as string;
      expect(traceparent).toBe(
        `00-${spans.server.spanContext().traceId}-${spans.bridgeClient.spanContext().spanId}-01`,
      );
    } finally {
      await client.close();
    }
  });

  it.each([
    { how: 'a spliced session (one upstream connection each)', url: () => bridge.url },
    { how: 'the shared upstream connection', url: () => sharedBridge.url },
  ])('legacy: the same chain through $how, with the session ids', async ({ url }) => {
    const client = await connect(url(), 'legacy');
    try {
      exporter.reset();
      await client.callTool('echo', { text: 'traced (legacy)' });
      const spans = chain('tools/call echo');
      for (const s of Object.values(spans)) {
        expect(s.attributes).toMatchObject({
          'mcp.method.name': 'tools/call',
          'gen_ai.tool.name': 'echo',
          'mcp.protocol.version': '2025-11-25',
          'anywire.era': 'legacy',
          'anywire.binding': 'http',
        });
        expect(s.attributes['mcp.session.id']).toMatch(/\S/);
      }
      // The client and the bridge's server side name the downstream session; the bridge's client
      // side and the server name the upstream one.
      expect(spans.client.attributes['mcp.session.id']).toBe(spans.bridgeServer.attributes['mcp.session.id']);
      expect(spans.server.attributes['mcp.session.id']).not.toBe(spans.client.attributes['mcp.session.id']);
    } finally {
      await client.close();
    }
  });

  it.each([
    { url: 'ws://127.0.0.1:0/mcp', binding: 'websocket', protocol: 'websocket' },
    { url: 'tcp://127.0.0.1:0', binding: 'tcp', protocol: undefined },
    { url: 'grpc://127.0.0.1:0', binding: 'grpc', protocol: 'http' },
    { url: 'http://127.0.0.1:0/mcp', binding: 'http', protocol: 'http' },
    { url: 'in-memory', binding: 'in-memory', protocol: undefined },
  ])('every binding: the server span of $binding is the child of the client span', async (b) => {
    const server = upstreamServer();
    let transport;
    let close: () => Promise<void>;
    if (b.url === 'in-memory') {
      const [a, c] = InMemoryTransport.createLinkedPair();
      await server.connect(a);
      transport = c;
      close = () => a.close();
    } else {
      const url = new URL(b.url);
      const started = await bindingFor(url).serve(server, url, {});
      transport = transportForUrl(started.endpoint);
      close = () => started.close();
    }
    const client = new Client({ name: 'otel-client', version: '1.0.0' }, { era: 'modern' });
    try {
      await client.connect(transport);
      exporter.reset();
      await client.callTool('echo', { text: b.binding });
      const spans = byName('tools/call echo');
      const clientSpan = spans.find((s) => s.kind === SpanKind.CLIENT);
      const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER);
      expect(parentOf(serverSpan!)).toBe(id(clientSpan!));
      expect(serverSpan!.spanContext().traceId).toBe(clientSpan!.spanContext().traceId);
      for (const s of [clientSpan!, serverSpan!]) {
        expect(s.attributes['anywire.binding']).toBe(b.binding);
        expect(s.attributes['network.protocol.name']).toBe(b.protocol);
      }
    } finally {
      await client.close();
      await close();
    }
  });

  it('errors carry error.type: a tool error, a JSON-RPC error; work inside a tool is a child span', async () => {
    const client = await connect(upstream.url, 'modern');
    try {
      exporter.reset();
      const broken = await client.callTool('broken');
      expect(broken.isError).toBe(true);
      await expect(client.callTool('refuse')).rejects.toThrow(/refused on purpose/);
      await client.callTool('nested');

      const [brokenServer] = byName('tools/call broken').filter((s) => s.kind === SpanKind.SERVER);
      expect(brokenServer!.attributes['error.type']).toBe('tool_error');
      expect(brokenServer!.status.code).toBe(SpanStatusCode.ERROR);

      const refused = byName('tools/call refuse');
      expect(refused.map((s) => s.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
      for (const s of refused) {
        expect(s.attributes).toMatchObject({ 'error.type': '-32042', 'rpc.response.status_code': '-32042' });
        expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'refused on purpose' });
      }

      // An unknown tool: -32602, and its caller-chosen name stays out of the span name.
      await expect(client.callTool('no-such-tool-7f3a')).rejects.toThrow();
      const unknown = exporter
        .getFinishedSpans()
        .filter((s) => s.attributes['gen_ai.tool.name'] === 'no-such-tool-7f3a');
      expect(unknown.map((s) => [s.name, s.attributes['error.type']])).toEqual([
        ['tools/call', '-32602'],
        ['tools/call', '-32602'],
      ]);

      const [nestedServer] = byName('tools/call nested').filter((s) => s.kind === SpanKind.SERVER);
      const [inside] = byName('inside the tool');
      expect(parentOf(inside!)).toBe(id(nestedServer!));
    } finally {
      await client.close();
    }
  });

  it('metrics: operation and session durations, requests, errors, open sessions and listen streams', async () => {
    const legacy = await connect(upstream.url, 'legacy');
    const modern = await connect(upstream.url, 'modern');
    const listen = await modern.listen({ toolsListChanged: true }, () => {});
    try {
      await legacy.callTool('echo', { text: 'counted' });
      await modern.callTool('broken');
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      const all: MetricData[] = resourceMetrics.scopeMetrics
        .filter((s) => s.scope.name === 'anywire')
        .flatMap((s) => s.metrics);
      const metric = (name: string) => {
        const m = all.find((x) => x.descriptor.name === name);
        expect(m, `metric ${name} among ${all.map((x) => x.descriptor.name).join(', ')}`).toBeDefined();
        return m!;
      };
      const points = (name: string, attrs: Record<string, string>) =>
        (metric(name) as SumMetricData | HistogramMetricData).dataPoints.filter((p) =>
          Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
        );

      const duration = metric('mcp.server.operation.duration') as HistogramMetricData;
      expect(duration.descriptor.unit).toBe('s');
      const echo = points('mcp.server.operation.duration', {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'echo',
        'anywire.era': 'legacy',
      });
      expect(echo.reduce((n, p) => n + (p.value as { count: number }).count, 0)).toBeGreaterThanOrEqual(1);
      expect(
        points('mcp.client.operation.duration', { 'mcp.method.name': 'tools/call' }).length,
      ).toBeGreaterThan(0);

      const sum = (name: string, attrs: Record<string, string>) =>
        points(name, attrs).reduce((n, p) => n + (p.value as number), 0);
      expect(sum('anywire.server.requests', { 'mcp.method.name': 'tools/call' })).toBeGreaterThanOrEqual(2);
      expect(sum('anywire.server.errors', { 'error.type': 'tool_error' })).toBeGreaterThanOrEqual(1);
      expect(sum('anywire.client.errors', { 'error.type': 'tool_error' })).toBeGreaterThanOrEqual(1);
      // Gauges, read at collection time over every live server of this process.
      expect(sum('anywire.server.sessions', {})).toBeGreaterThanOrEqual(1);
      expect(sum('anywire.server.streams', {})).toBeGreaterThanOrEqual(1);

      // Session durations, once the legacy session has ended on both sides.
      await legacy.close();
      const sessionCount = async (name: string) => {
        const { resourceMetrics } = await reader.collect();
        const m = resourceMetrics.scopeMetrics
          .filter((s) => s.scope.name === 'anywire')
          .flatMap((s) => s.metrics)
          .find((x) => x.descriptor.name === name) as HistogramMetricData | undefined;
        return (m?.dataPoints ?? [])
          .filter((p) => p.attributes['anywire.era'] === 'legacy')
          .reduce((n, p) => n + p.value.count, 0);
      };
      expect(await sessionCount('mcp.client.session.duration')).toBeGreaterThanOrEqual(1);
      const deadline = Date.now() + 10_000;
      while ((await sessionCount('mcp.server.session.duration')) < 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(
        await sessionCount('mcp.server.session.duration'),
        'the server recorded the closed session within 10 s',
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await listen.close();
      await modern.close();
      await legacy.close();
    }
  });
});
