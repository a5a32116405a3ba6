/**
 * The `anywire.mcp.v1.Mcp` service implementation for one `Servable`, to add to any grpc-js
 * `Server` (beside health checks or your own services) or to run through `serveGrpc`. Each
 * `Session` stream becomes a connection of the server (both eras, like stdio); each `Call` is one
 * modern request dispatched directly. Metadata reaches handlers as `ctx.headers`, the
 * authentication verdict as `ctx.authInfo`, W3C `traceparent` (metadata or `_meta`) as `ctx.trace`.
 * A `Session` whose identity expires (`AuthInfo.expiresAt`) ends with UNAUTHENTICATED and a
 * `www-authenticate` trailer; its in-flight handlers are cancelled.
 * @module
 */
import type {
  ServerDuplexStream,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { Authenticator } from '../../protocol/auth.js';
import type { MessageContext } from '../../protocol/transport.js';
import type { Servable } from '../../server/servable.js';
import type { Admission } from '../shared/ingress.js';
import { ConnectionLimit, expiredError, extractTrace, watchExpiry } from '../shared/ingress.js';
import { checkNumbers } from '../shared/options.js';
import { admitCall, refusalStatus } from './auth.js';
import { metadataToHeaders } from './metadata.js';
import type { Frame } from './proto.js';
import { loadMcpProto } from './proto.js';
import { GrpcCallExchange } from './server-call.js';
import { GrpcSessionTransport } from './server-session.js';

/** Default `maxConnections`: most concurrent streams (`Session` plus `Call`) per service, 20 000. */
export const DEFAULT_GRPC_MAX_CONNECTIONS = 20_000;
/** @deprecated the old name of {@link DEFAULT_GRPC_MAX_CONNECTIONS}. */
export const DEFAULT_GRPC_MAX_STREAMS = DEFAULT_GRPC_MAX_CONNECTIONS;

/** Options of {@link createGrpcService}. Every limit has its unit in its name and a safe default. */
export interface GrpcServiceOptions {
  /**
   * Largest JSON-RPC message in one frame, in UTF-8 bytes. A bigger frame is answered with -32600
   * (id null) on its stream, which keeps serving. Default 4 MiB.
   */
  maxMessageBytes?: number;
  /**
   * Most concurrent streams (`Session` plus `Call`, 1 or more); one more is refused with
   * RESOURCE_EXHAUSTED. Default {@link DEFAULT_GRPC_MAX_CONNECTIONS}.
   */
  maxConnections?: number;
  /** @deprecated the old name of `maxConnections` (used when `maxConnections` is absent). */
  maxStreams?: number;
  /**
   * Decides who calls, once per `Session` and once per `Call`, from the metadata (`headers`, e.g.
   * `authorization`) and the verified client certificate. A refusal (`AuthError`) ends the stream
   * with UNAUTHENTICATED (16) or PERMISSION_DENIED (7) and trailing metadata `www-authenticate`.
   * Without one, a verified client certificate gives the identity (`certificateAuthInfo`).
   */
  authenticator?: Authenticator;
  /** Non-fatal errors (bad frames, write failures), e.g. for logging to stderr. */
  onerror?: (error: Error) => void;
}

/** The service for one server: its definition, implementation, and shutdown. */
export interface GrpcMcpService {
  /** The `anywire.mcp.v1.Mcp` definition loaded from `mcp.proto`. */
  readonly definition: ServiceDefinition;
  /** `Session` and `Call` handlers, for `grpcServer.addService(definition, implementation)`. */
  readonly implementation: UntypedServiceImplementation;
  /** Streams open now (`Session` plus `Call`). */
  readonly openStreams: number;
  /**
   * Graceful shutdown: refuses new streams (UNAVAILABLE), ends each `Session` once the requests it
   * received are answered, ends `subscriptions/listen` calls, and resolves when every stream ended.
   */
  drain(): Promise<void>;
}

/**
 * Creates the MCP service for `server`.
 * @example
 * const service = createGrpcService(server, { authenticator });
 * grpcServer.addService(service.definition, service.implementation);
 */
export function createGrpcService(server: Servable, options: GrpcServiceOptions = {}): GrpcMcpService {
  checkNumbers({
    maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
    maxConnections: [options.maxConnections, { min: 1 }],
    maxStreams: [options.maxStreams, { min: 1 }],
  });
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxConnections = options.maxConnections ?? options.maxStreams ?? DEFAULT_GRPC_MAX_CONNECTIONS;
  const sessions = new Set<GrpcSessionTransport>();
  const calls = new Map<GrpcCallExchange, Promise<void>>();
  const limit = new ConnectionLimit(maxConnections);
  let draining = false;

  /** Counts the stream in, or refuses it; returns its metadata as headers. */
  const admit = (call: ServerDuplexStream<Frame, Frame> | ServerWritableStream<Frame, Frame>) => {
    if (draining) {
      call.emit('error', { code: status.UNAVAILABLE, details: 'anywire: the server is shutting down' });
      return false;
    }
    if (!limit.tryAcquire()) {
      call.emit('error', {
        code: status.RESOURCE_EXHAUSTED,
        details: `anywire: too many open streams (maxConnections ${maxConnections})`,
      });
      return false;
    }
    return true;
  };
  const contextOf = (headers: Record<string, string | undefined>, verdict: Admission): MessageContext => {
    const context: MessageContext = { binding: 'grpc', headers };
    if (verdict.ok && verdict.authInfo) context.authInfo = verdict.authInfo;
    const trace = extractTrace(headers);
    if (trace) context.trace = trace;
    return context;
  };
  const onerror = options.onerror;
  const refuse = (call: { emit(e: 'error', v: unknown): boolean }, error: unknown) => {
    options.onerror?.(error as Error);
    call.emit('error', { code: status.INTERNAL, details: `anywire: ${(error as Error).message}` });
  };

  const Session = (call: ServerDuplexStream<Frame, Frame>) => {
    if (!admit(call)) return;
    let released = false;
    const release = () => {
      if (!released) limit.release();
      released = true;
    };
    void (async () => {
      const headers = metadataToHeaders(call.metadata);
      const verdict = await admitCall(call, headers, options.authenticator, onerror);
      if (call.cancelled) return release();
      if (!verdict.ok) {
        release();
        call.emit('error', refusalStatus(verdict.error));
        return;
      }
      const transport = new GrpcSessionTransport(call, {
        maxMessageBytes,
        context: contextOf(headers, verdict),
      });
      sessions.add(transport);
      // Response headers now tell the client its stream was accepted (mcp.proto, rpc Session).
      call.sendMetadata(new Metadata());
      const conn = await server.connect(transport);
      if (options.onerror) conn.onerror = options.onerror;
      const unwatch = watchExpiry(verdict.authInfo, () => {
        onerror?.(new Error('anywire: gRPC Session ended: the credentials expired'));
        transport.fail(refusalStatus(expiredError()));
      });
      void conn.closed.then(() => {
        unwatch();
        sessions.delete(transport);
        release();
      });
      if (draining) void transport.drain();
    })().catch((error) => {
      release();
      refuse(call, error);
    });
  };

  const Call = (call: ServerWritableStream<Frame, Frame>) => {
    if (!admit(call)) return;
    const run = (async () => {
      const headers = metadataToHeaders(call.metadata);
      const verdict = await admitCall(call, headers, options.authenticator, onerror);
      if (call.cancelled) return;
      if (!verdict.ok) {
        call.emit('error', refusalStatus(verdict.error));
        return;
      }
      const exchange = new GrpcCallExchange(server, call, contextOf(headers, verdict), maxMessageBytes);
      const done = exchange.run();
      calls.set(exchange, done);
      if (draining) exchange.drain();
      await done;
      calls.delete(exchange);
    })();
    run.catch((error) => refuse(call, error)).finally(() => limit.release());
  };

  return {
    definition: loadMcpProto().service,
    implementation: { Session, Call } as UntypedServiceImplementation,
    get openStreams() {
      return limit.open;
    },
    async drain() {
      draining = true;
      for (const exchange of calls.keys()) exchange.drain();
      await Promise.all([...[...sessions].map((s) => s.drain()), ...calls.values()]);
    },
  };
}
