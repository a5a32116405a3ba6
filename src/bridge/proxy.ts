/**
 * `McpProxy`: an upstream MCP server (any binding) presented to the bindings as if it were an
 * `McpServer`. Connection-shaped bindings (stdio, legacy HTTP sessions, HTTP+SSE, WebSocket,
 * streams, gRPC sessions, MQTT clients) get one upstream connection each by default, spliced
 * message for message; request-shaped ones (2026-07-28 HTTP) share one upstream connection, with
 * ids, progress tokens and subscription ids remapped.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcId, JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import { META } from '../protocol/constants.js';
import { Peer } from '../protocol/peer.js';
import type { RequestOptions } from '../protocol/peer.js';
import type { Transport } from '../protocol/transport.js';
import type { Implementation, JsonObject, ServerCapabilities, Tool } from '../protocol/types.js';
import type { RequestScope } from '../server/context.js';
import type { Context } from '@opentelemetry/api';
import { observeClientRequest, observeServerRequest, telemetryActive } from '../telemetry/observe.js';
import { splice } from './splice.js';
import type { Splice } from './splice.js';

/** Options of {@link McpProxy}. */
export interface McpProxyOptions {
  /** One upstream connection for all downstream connections (ids remapped). Default false: one each. */
  shared?: boolean;
  /** Name reported where the proxy must name itself (errors, logs). Default `anywire-bridge`. */
  info?: Implementation;
  /** Timeout of requests forwarded on the shared upstream, in ms. Default 300 000. */
  requestTimeoutMs?: number;
}

/** What a connection-shaped binding gets back from `connect()`. */
export interface ProxyConnection {
  readonly closed: Promise<void>;
  close(): Promise<void>;
  onerror?: (error: Error) => void;
  /** Mirrors `ServerConnection.session` for bindings that read the negotiated version. */
  readonly session: { protocolVersion?: string };
}

/** Forwards everything to an upstream MCP server. */
export class McpProxy {
  readonly info: Implementation;
  readonly options: { eras: 'both' };
  /**
   * Upstream tools, learned from the first modern request's `tools/list`, so HTTP bindings can check
   * `Mcp-Param-*` headers at the bridge as a direct server would.
   */
  readonly tools = new Map<string, { listing: Tool }>();
  #toolsLoaded: Promise<void> | undefined;
  readonly capabilities: ServerCapabilities = {};
  #upstream: () => Transport | Promise<Transport>;
  #opts: McpProxyOptions;
  #splices = new Set<Splice>();
  #shared: Promise<SharedUpstream> | undefined;

  /** @param upstream makes a new (unstarted) client transport to the upstream server */
  constructor(upstream: () => Transport | Promise<Transport>, options: McpProxyOptions = {}) {
    this.#upstream = upstream;
    this.#opts = options;
    this.info = options.info ?? { name: 'anywire-bridge', version: '0.1.0' };
    this.options = { eras: 'both' };
  }

  /** Serves one downstream connection: spliced to a new upstream connection (or the shared one). */
  async connect(downstream: Transport): Promise<ProxyConnection> {
    if (this.#opts.shared) return this.#sharedConnect(downstream);
    const s = await splice(downstream, await this.#upstream());
    this.#splices.add(s);
    void s.closed.then(() => this.#splices.delete(s));
    const conn: ProxyConnection = {
      closed: s.closed,
      close: () => s.close(),
      session: {
        get protocolVersion() {
          return s.protocolVersion;
        },
      },
    };
    s.onerror = (e) => conn.onerror?.(e);
    return conn;
  }

  /**
   * Forwards one self-contained (2026-07-28) request on the shared upstream connection. With an
   * OpenTelemetry SDK installed, it runs in a SERVER span (parent from the request's `_meta`) and
   * the upstream request in a CLIENT span, its child, whose context replaces the one in `_meta`.
   */
  dispatch(request: JsonRpcRequest, scope: RequestScope): Promise<JsonObject> {
    if (!telemetryActive()) return this.#dispatch(request, scope, undefined);
    const params = request.params as JsonObject | undefined;
    const claimed = (params?._meta as JsonObject | undefined)?.[META.protocolVersion];
    return observeServerRequest(
      {
        era: 'modern',
        method: request.method,
        params,
        id: request.id,
        binding: scope.context.binding,
        protocolVersion: typeof claimed === 'string' ? claimed : undefined,
        trace: scope.context.trace,
      },
      (ctx) => this.#dispatch(request, scope, ctx),
    );
  }

  async #dispatch(
    request: JsonRpcRequest,
    scope: RequestScope,
    ctx: Context | undefined,
  ): Promise<JsonObject> {
    const up = await this.#sharedUpstream();
    const meta = (request.params as JsonObject | undefined)?._meta as JsonObject | undefined;
    this.#toolsLoaded ??= up
      .request('tools/list', { _meta: { ...meta, progressToken: undefined } }, undefined, ctx)
      .then((r) => {
        for (const t of (r.tools as Tool[] | undefined) ?? []) this.tools.set(t.name, { listing: t });
      })
      .catch(() => {});
    await this.#toolsLoaded;
    return up.forward(request, scope, ctx);
  }

  /** Handles a downstream notification that arrived outside a connection (none today). */
  notification(_n: JsonRpcNotification): void {}

  /** Closes every upstream connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#splices].map((s) => s.close()));
    if (this.#shared) await (await this.#shared).close();
  }

  #sharedUpstream(): Promise<SharedUpstream> {
    this.#shared ??= (async () => {
      const up = new SharedUpstream(await this.#upstream(), this.#opts.requestTimeoutMs ?? 300_000);
      await up.start();
      return up;
    })();
    return this.#shared;
  }

  async #sharedConnect(downstream: Transport): Promise<ProxyConnection> {
    const up = await this.#sharedUpstream();
    return up.attach(downstream);
  }
}

/** One upstream connection shared by many downstream requests and connections. */
class SharedUpstream {
  readonly peer: Peer;
  #listens = new Map<JsonRpcId, { scope: RequestScope; downstreamId: JsonRpcId }>();
  #attached = new Set<{ downstream: Transport; inflight: Set<JsonRpcId> }>();
  #initialize: Promise<JsonObject> | undefined;
  /** The version the upstream session negotiated (legacy), for telemetry. */
  #legacyVersion: string | undefined;

  constructor(transport: Transport, requestTimeoutMs: number) {
    this.peer = new Peer(
      transport,
      {
        onrequest: (r) => this.#serverRequest(r),
        onnotification: (n) => this.#notification(n),
      },
      { requestTimeoutMs },
    );
  }

  start(): Promise<void> {
    return this.peer.start();
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  /** Sends a request upstream, in a CLIENT span (child of `parent`) when an SDK is installed. */
  request(
    method: string,
    params: JsonObject | undefined,
    options: RequestOptions | undefined,
    parent: Context | undefined,
  ): Promise<JsonObject> {
    if (!telemetryActive()) return this.peer.request(method, params, options);
    const claimed = (params?._meta as JsonObject | undefined)?.[META.protocolVersion];
    return observeClientRequest(
      {
        era: claimed === undefined ? 'legacy' : 'modern',
        method,
        params,
        binding: this.peer.transport.binding,
        protocolVersion: typeof claimed === 'string' ? claimed : this.#legacyVersion,
        sessionId: this.peer.transport.sessionId,
        parent,
      },
      (sent) => this.peer.request(method, sent, options),
      () => this.peer.lastRequestId,
    );
  }

  async forward(request: JsonRpcRequest, scope: RequestScope, parent?: Context): Promise<JsonObject> {
    const params = { ...(request.params as JsonObject | undefined) };
    const meta = params._meta as JsonObject | undefined;
    const token = meta?.progressToken;
    if (meta && token !== undefined) {
      const { progressToken: _t, ...rest } = meta;
      params._meta = rest;
    }
    const pending = this.request(
      request.method,
      params,
      {
        signal: scope.call.signal,
        onprogress:
          token === undefined
            ? undefined
            : (p) => void scope.notify('notifications/progress', { ...p, progressToken: token }),
      },
      parent,
    );
    if (request.method === 'subscriptions/listen') {
      const upstreamId = this.peer.lastRequestId;
      this.#listens.set(upstreamId, { scope, downstreamId: request.id });
      void pending.finally(() => this.#listens.delete(upstreamId)).catch(() => {});
    }
    const result = await pending;
    if (request.method === 'subscriptions/listen') {
      result._meta = { ...(result._meta as JsonObject | undefined), [META.subscriptionId]: request.id };
    }
    return result;
  }

  #notification(n: JsonRpcNotification): void {
    const params = (n.params ?? {}) as JsonObject;
    const sub = (params._meta as JsonObject | undefined)?.[META.subscriptionId] as JsonRpcId | undefined;
    if (sub !== undefined) {
      const l = this.#listens.get(sub);
      if (l) {
        void l.scope.notify(n.method, {
          ...params,
          _meta: { ...(params._meta as JsonObject), [META.subscriptionId]: l.downstreamId },
        });
        return;
      }
    }
    for (const a of this.#attached) void a.downstream.send(n).catch(() => {});
  }

  async #serverRequest(r: JsonRpcRequest): Promise<JsonObject> {
    // A legacy server-to-client request on a shared upstream: ask the downstream connection with the
    // newest request in flight (the one that most likely caused it).
    const target =
      [...this.#attached].reverse().find((a) => a.inflight.size > 0) ?? [...this.#attached].pop();
    if (!target)
      throw new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${r.method} (no client attached)`);
    const peer = (target as { peer?: Peer }).peer!;
    return peer.request(r.method, r.params as JsonObject | undefined);
  }

  /** Serves a downstream connection over the shared upstream: its requests are forwarded with new ids. */
  async attach(downstream: Transport): Promise<ProxyConnection> {
    const entry: { downstream: Transport; inflight: Set<JsonRpcId>; peer?: Peer } = {
      downstream,
      inflight: new Set(),
    };
    let protocolVersion: string | undefined;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => {
      resolveClosed = r;
    });
    const peer: Peer = new Peer(downstream, {
      onrequest: async (request, call, context): Promise<JsonObject> => {
        entry.inflight.add(request.id);
        try {
          if (request.method === 'initialize') {
            // One upstream session serves every downstream one: initialize it once.
            this.#initialize ??= this.peer
              .request('initialize', request.params as JsonObject)
              .then(async (r) => {
                await this.peer.notify('notifications/initialized');
                if (typeof r.protocolVersion === 'string') this.#legacyVersion = r.protocolVersion;
                return r;
              });
            const r = await this.#initialize;
            protocolVersion = r.protocolVersion as string | undefined;
            return r;
          }
          const scope: RequestScope = {
            call,
            context,
            notify: (m, p): Promise<void> => peer.notify(m, p, { relatedRequestId: request.id }),
          };
          if (!telemetryActive()) return await this.forward(request, scope);
          return await observeServerRequest(
            {
              era: 'legacy',
              method: request.method,
              params: request.params as JsonObject | undefined,
              id: request.id,
              binding: context.binding,
              protocolVersion,
              sessionId: context.sessionId ?? downstream.sessionId,
              trace: context.trace,
            },
            (ctx) => this.forward(request, scope, ctx),
          );
        } finally {
          entry.inflight.delete(request.id);
        }
      },
      onnotification: (n) => {
        if (n.method === 'notifications/initialized' || n.method === 'notifications/cancelled') return;
        void this.peer.notify(n.method, n.params as JsonObject | undefined);
      },
      onclose: () => {
        this.#attached.delete(entry);
        resolveClosed();
      },
    });
    entry.peer = peer;
    this.#attached.add(entry);
    await peer.start();
    return {
      closed,
      close: () => peer.close(),
      session: {
        get protocolVersion() {
          return protocolVersion;
        },
      },
    };
  }
}
