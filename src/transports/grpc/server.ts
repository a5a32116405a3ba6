/**
 * `serveGrpc`: an `Servable` on its own grpc-js server, plaintext (`grpc://`, h2c) or TLS
 * (`grpcs://`), optionally mutual TLS, bound to 127.0.0.1 unless told otherwise. Shutdown is
 * graceful first (drain, then `tryShutdown`) and forced after a grace period (`forceShutdown`
 * cancels what is left, which aborts its handlers).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ChannelOptions } from '@grpc/grpc-js';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { Servable } from '../../server/servable.js';
import { checkNumbers } from '../shared/options.js';
import type { GrpcMcpService, GrpcServiceOptions } from './service.js';
import { createGrpcService } from './service.js';

/** Default grace period of `close()` before in-flight streams are cancelled: 5000 ms. */
export const DEFAULT_GRPC_SHUTDOWN_GRACE_MS = 5000;

/** TLS material of the server: PEM contents, or paths of PEM files. */
export interface GrpcServerTlsOptions {
  /** Certificate chain. */
  cert: string | Buffer;
  /** Private key. */
  key: string | Buffer;
  /** CA certificate(s) that sign acceptable client certificates; used with `requestCert` (mutual TLS). */
  ca?: string | Buffer;
  /**
   * Mutual TLS: require a client certificate signed by `ca` (needs `ca`). A client without one is
   * refused during the TLS handshake; its certificate's subject and SANs reach `authenticate` and
   * `ctx.authInfo`. Default false.
   */
  requestCert?: boolean;
}

/** Options of {@link serveGrpc}. */
export interface ServeGrpcOptions extends GrpcServiceOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one (read it from the handle). Default 50051. */
  port?: number;
  /** Serve TLS (`grpcs://`). Default: plaintext h2c (`grpc://`). */
  tls?: GrpcServerTlsOptions;
  /**
   * Largest gRPC message accepted, in bytes (`grpc.max_receive_message_length`). A bigger one ends
   * its stream with RESOURCE_EXHAUSTED before it is buffered. Default twice `maxMessageBytes`, so
   * a frame somewhat over `maxMessageBytes` still gets a JSON-RPC answer (-32600).
   */
  maxFrameBytes?: number;
  /** Time `close()` waits for streams to finish before cancelling them, in ms. Default 5000. */
  shutdownGraceMs?: number;
  /** Extra grpc-js server options (keepalive, `grpc.max_concurrent_streams`, ...). */
  grpcOptions?: ChannelOptions;
}

/** A running gRPC server. */
export interface GrpcServerHandle {
  /** `grpc://host:port` or `grpcs://host:port` (IPv6 hosts in brackets). */
  url: string;
  /** The bound interface and port. */
  address: { host: string; port: number };
  /** The MCP service (open streams, drain). */
  service: GrpcMcpService;
  /** The underlying grpc-js server (add more services before clients arrive). */
  grpcServer: Server;
  /**
   * Stops: refuses new streams, lets in-flight requests finish, then cancels what is left after
   * `graceMs` (default `shutdownGraceMs`). Idempotent. Does not close the `Servable`.
   */
  close(graceMs?: number): Promise<void>;
}

function pem(v: string | Buffer): Buffer {
  if (Buffer.isBuffer(v)) return v;
  return v.includes('-----BEGIN') ? Buffer.from(v) : readFileSync(v);
}

/** Server credentials for `tls` (insecure when absent). @throws TypeError for `requestCert` without `ca` */
export function grpcServerCredentials(tls: GrpcServerTlsOptions | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (tls.requestCert && !tls.ca)
    throw new TypeError(
      'anywire: tls.requestCert (mutual TLS) needs tls.ca, the CA that signs client certificates',
    );
  return ServerCredentials.createSsl(
    tls.ca ? pem(tls.ca) : null,
    [{ private_key: pem(tls.key), cert_chain: pem(tls.cert) }],
    tls.requestCert ?? false,
  );
}

/**
 * Serves `server` over gRPC (`anywire.mcp.v1.Mcp`, see `proto/anywire/mcp/v1/mcp.proto`).
 * @throws Error when the address cannot be bound; TypeError for inconsistent TLS options; RangeError
 *   naming the option for a numeric option out of range
 */
export async function serveGrpc(server: Servable, options: ServeGrpcOptions = {}): Promise<GrpcServerHandle> {
  checkNumbers({
    port: [options.port, { min: 0, max: 65535 }],
    maxFrameBytes: [options.maxFrameBytes, { min: 1 }],
    shutdownGraceMs: [options.shutdownGraceMs, { min: 0 }],
  });
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxFrameBytes = options.maxFrameBytes ?? 2 * maxMessageBytes;
  const credentials = grpcServerCredentials(options.tls);
  const grpcServer = new Server({
    'grpc.max_receive_message_length': maxFrameBytes,
    ...options.grpcOptions,
  });
  const service = createGrpcService(server, { ...options, maxMessageBytes });
  grpcServer.addService(service.definition, service.implementation);
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync(`${bracketed}:${options.port ?? 50051}`, credentials, (error, bound) =>
      error
        ? reject(new Error(`anywire: cannot serve gRPC on ${bracketed}: ${error.message}`, { cause: error }))
        : resolve(bound),
    );
  });
  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'grpcs' : 'grpc'}://${bracketed}:${port}`,
    address: { host, port },
    service,
    grpcServer,
    close(graceMs = options.shutdownGraceMs ?? DEFAULT_GRPC_SHUTDOWN_GRACE_MS) {
      closing ??= (async () => {
        const drained = service.drain();
        const shutdown = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceful = await Promise.race([
          Promise.all([drained, shutdown]).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (!graceful) {
          grpcServer.forceShutdown();
          // Cancelled streams close their connections on the next ticks; let that happen first.
          await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 50))]);
        }
      })();
      return closing;
    },
  };
}
