/**
 * The gRPC binding, client side: one `Session` stream of `anywire.mcp.v1.Mcp` as a
 * {@link Transport}, carrying either era like a stdio pipe (`mcp.proto`). `grpc://` is plaintext
 * h2c, `grpcs://` TLS with an optional client certificate (mutual TLS). Metadata (e.g.
 * `authorization`) is sent once, when the stream opens.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ChannelOptions, Client, ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { credentials, status } from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, Transport } from '../../protocol/transport.js';
import { writeFrame } from './backpressure.js';
import { toFrame } from './frame.js';
import { headersToMetadata } from './metadata.js';
import type { Frame } from './proto.js';
import { loadMcpProto } from './proto.js';
import { checkNumbers } from '../shared/options.js';

/** Default time for the server to accept the `Session` stream: 10 000 ms. */
export const DEFAULT_GRPC_CONNECT_TIMEOUT_MS = 10_000;
/** Default time `close()` lets queued frames flush before cancelling the stream: 2000 ms. */
export const DEFAULT_GRPC_CLOSE_TIMEOUT_MS = 2000;
/** Protobuf framing around the JSON of one frame, in bytes (field tag plus a varint length). */
const FRAME_OVERHEAD_BYTES = 16;

/** TLS material of the client: PEM contents, or paths of PEM files. */
export interface GrpcClientTlsOptions {
  /** CA certificate(s) that sign the server's certificate. Default: the system's root CAs. */
  ca?: string | Buffer;
  /** Client certificate chain, for mutual TLS (with `key`). */
  cert?: string | Buffer;
  /** Client private key, for mutual TLS (with `cert`). */
  key?: string | Buffer;
  /**
   * Name to verify the server certificate against (and to send as SNI), when it differs from the
   * URL's host, e.g. `localhost` when dialling `127.0.0.1`. Default: the URL's host.
   */
  serverName?: string;
}

/** Options of {@link GrpcClientTransport}. */
export interface GrpcClientTransportOptions {
  /** `grpc://host:port` (plaintext h2c) or `grpcs://host:port` (TLS). */
  url: string | URL;
  /**
   * Metadata sent when the stream opens, e.g. `{ authorization: 'Bearer ...' }`. Keys are
   * lower-cased; keys ending in `-bin` take Buffer values.
   */
  metadata?: Record<string, string | Buffer | (string | Buffer)[]>;
  /** TLS material; only with `grpcs://`. */
  tls?: GrpcClientTlsOptions;
  /**
   * gRPC deadline of the whole `Session` stream, in ms from `start()`. When it passes the stream ends
   * with DEADLINE_EXCEEDED, the server cancels everything in flight, and pending requests here
   * reject with `CONNECTION_CLOSED`. Default: none.
   */
  deadlineMs?: number;
  /** Time for the server to accept the stream (response headers), in ms; `start()` rejects after it. Default 10 000. */
  connectTimeoutMs?: number;
  /** Time `close()` lets queued frames flush before cancelling the stream, in ms. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * Largest message accepted from the server, in bytes of JSON (sets `grpc.max_receive_message_length`).
   * A bigger one ends the stream with RESOURCE_EXHAUSTED. Default 4 MiB.
   */
  maxMessageBytes?: number;
  /** Extra grpc-js channel options (keepalive, proxies, ...). */
  channelOptions?: ChannelOptions;
}

const CONTEXT: MessageContext = Object.freeze({ binding: 'grpc' });

function pem(v: string | Buffer): Buffer {
  if (Buffer.isBuffer(v)) return v;
  return v.includes('-----BEGIN') ? Buffer.from(v) : readFileSync(v);
}

/**
 * Explains a failed stream on one line: status name and code, a hint for common TLS failures, then
 * the details grpc-js gave.
 */
export function describeGrpcError(url: string, error: Pick<ServiceError, 'code' | 'details'>): string {
  const name = status[error.code] ?? 'UNKNOWN';
  const details = error.details
    .replace(/\s+/g, ' ')
    .replace(/\s*Resolution note:\s*$/, '')
    .trim();
  let hint = '';
  if (/certificate required|handshake failure/i.test(details)) {
    hint = 'the server requires a client certificate (mutual TLS needs tls.cert and tls.key); ';
  } else if (/self[- ]signed|unable to (verify|get local issuer)|certificate verify failed/i.test(details)) {
    hint = "the server's certificate is not trusted (give tls.ca); ";
  } else if (/altnames|does not match|Hostname\/IP/i.test(details)) {
    hint = "the server's certificate names another host (set tls.serverName); ";
  }
  return `gRPC ${name} (${error.code}) from ${url}: ${hint}${details}`;
}

/** A client connection to an anywire gRPC server: one `Session` stream. */
export class GrpcClientTransport implements Transport {
  readonly binding = 'grpc';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly options: GrpcClientTransportOptions;
  /** The URL as given. */
  readonly url: string;
  #target: string;
  #secure: boolean;
  #client: Client | undefined;
  #stream: ClientDuplexStream<Frame, Frame> | undefined;
  #closed = false;

  /** @throws TypeError for a URL that is not `grpc://host:port` or `grpcs://host:port`, or `tls` with `grpc://` */
  /** @throws RangeError naming a numeric option out of range */
  constructor(options: GrpcClientTransportOptions) {
    checkNumbers({
      deadlineMs: [options.deadlineMs, { min: 1 }],
      connectTimeoutMs: [options.connectTimeoutMs, { min: 1 }],
      closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
      maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
    });
    this.options = options;
    this.url = String(options.url);
    const u = new URL(this.url);
    if (u.protocol !== 'grpc:' && u.protocol !== 'grpcs:')
      throw new TypeError(`anywire: a gRPC URL is grpc://host:port or grpcs://host:port, not ${this.url}`);
    if (!u.port) throw new TypeError(`anywire: ${this.url} names no port`);
    this.#secure = u.protocol === 'grpcs:';
    if (options.tls && !this.#secure)
      throw new TypeError(`anywire: tls options need a grpcs:// URL (got ${this.url})`);
    this.#target = `${u.hostname}:${u.port}`;
  }

  /**
   * Opens the stream; resolves once the server has accepted it (its response headers arrived).
   * @throws McpError `NOT_CONNECTED` with the gRPC status (UNAVAILABLE for a refused connection or
   *   TLS failure, UNAUTHENTICATED for refused credentials, ...) or after `connectTimeoutMs`
   */
  start(): Promise<void> {
    if (this.#client) throw new Error('anywire: GrpcClientTransport already started');
    const o = this.options;
    const maxBytes = (o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) + FRAME_OVERHEAD_BYTES;
    const channelOptions: ChannelOptions = {
      'grpc.max_receive_message_length': maxBytes,
      ...o.channelOptions,
    };
    if (o.tls?.serverName) channelOptions['grpc.ssl_target_name_override'] = o.tls.serverName;
    const tls = o.tls;
    const creds = this.#secure
      ? credentials.createSsl(
          tls?.ca ? pem(tls.ca) : null,
          tls?.key ? pem(tls.key) : null,
          tls?.cert ? pem(tls.cert) : null,
        )
      : credentials.createInsecure();
    const { Client: McpClient } = loadMcpProto();
    const client = new McpClient(this.#target, creds, channelOptions);
    this.#client = client;
    const callOptions = o.deadlineMs === undefined ? {} : { deadline: Date.now() + o.deadlineMs };
    const stream = (
      client as unknown as {
        Session(md: unknown, opts: unknown): ClientDuplexStream<Frame, Frame>;
      }
    ).Session(headersToMetadata(o.metadata), callOptions);
    this.#stream = stream;
    stream.on('data', (frame: Frame) => this.#receive(frame));
    return new Promise((resolve, reject) => {
      let accepted = false;
      const timer = setTimeout(() => {
        if (accepted) return;
        const ms = o.connectTimeoutMs ?? DEFAULT_GRPC_CONNECT_TIMEOUT_MS;
        const err = new McpError(
          'NOT_CONNECTED',
          `gRPC server at ${this.url} did not accept a Session within ${ms} ms`,
        );
        reject(err);
        stream.cancel();
        this.#finish();
      }, o.connectTimeoutMs ?? DEFAULT_GRPC_CONNECT_TIMEOUT_MS);
      stream.once('metadata', () => {
        accepted = true;
        clearTimeout(timer);
        resolve();
      });
      stream.on('error', (e: ServiceError) => {
        clearTimeout(timer);
        if (!accepted) {
          const err = new McpError('NOT_CONNECTED', describeGrpcError(this.url, e), { cause: e });
          this.onerror?.(err);
          reject(err);
        } else if (!this.#closed) {
          this.onerror?.(new McpError('CONNECTION_CLOSED', describeGrpcError(this.url, e), { cause: e }));
        }
        this.#finish();
      });
      stream.on('status', (s: { code: number }) => {
        if (s.code === status.OK) {
          clearTimeout(timer);
          if (!accepted)
            reject(new McpError('NOT_CONNECTED', `gRPC server at ${this.url} ended the Session at once`));
          this.#finish();
        }
      });
    });
  }

  /** Sends one frame. @throws McpError `NOT_CONNECTED` before `start()` or after the stream ended */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    const stream = this.#stream;
    if (this.#closed || !stream)
      return Promise.reject(new McpError('NOT_CONNECTED', `the gRPC Session to ${this.url} is not open`));
    return writeFrame(stream, toFrame(message));
  }

  /**
   * Flushes queued frames, half-closes, and cancels the stream: the server cancels every request
   * of this session still in flight, as when a stdio server's stdin closes. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const stream = this.#stream;
    if (stream) {
      if (!stream.writableFinished) {
        const flushed = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.closeTimeoutMs ?? DEFAULT_GRPC_CLOSE_TIMEOUT_MS);
          stream.once('finish', () => {
            clearTimeout(timer);
            resolve();
          });
          stream.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        stream.end();
        await flushed;
      }
      stream.cancel();
    }
    this.#finish();
  }

  #receive(frame: Frame): void {
    const r = parseMessage(frame.json);
    if (!r.ok) {
      this.onerror?.(
        new McpError(
          'PROTOCOL_ERROR',
          `ignored a gRPC frame from the server that is not JSON-RPC (${r.error.error.message}): ${frame.json.slice(0, 200)}`,
        ),
      );
      return;
    }
    if ('message' in r) this.onmessage?.(r.message, CONTEXT);
    else if (r.batch.length) this.onmessage?.(r.batch, CONTEXT);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.close();
    this.onclose?.();
  }
}

/**
 * A transport to the gRPC server at `url` (not started: `client.connect(transport)` starts it).
 * @example
 * await client.connect(connectGrpc('grpcs://mcp.example:443', { metadata: { authorization: `Bearer ${token}` } }));
 */
export function connectGrpc(
  url: string | URL,
  options: Omit<GrpcClientTransportOptions, 'url'> = {},
): GrpcClientTransport {
  return new GrpcClientTransport({ ...options, url });
}
