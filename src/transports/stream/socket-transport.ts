/**
 * One MCP connection over a connected byte stream (`net.Socket`, `tls.TLSSocket`, any Duplex): the
 * stdio framing, newline-delimited JSON (MCP basic/transports: it "works unchanged over Unix domain
 * sockets, TCP", and "custom byte-stream transports SHOULD reuse stdio framing"), or the MessagePack
 * codec when the client asked for it and the server granted it (see `codec.ts` for the handshake).
 *
 * Both roles use this class: a server answers a bad frame (invalid JSON -32700, oversized or invalid
 * message -32600) and keeps serving; a client reports it through `onerror`. Connection setup
 * (listening, connecting, TLS) lives in `server.ts` and `client.ts`.
 *
 * Shutdown: `close()` writes what is queued, half-closes (FIN) and fires `onclose`; the socket is
 * destroyed if the peer has not closed its side within `closeTimeoutMs`. A peer's FIN ends the
 * connection the way end of stdin ends a stdio server: `onclose` fires, and the server connection
 * cancels its in-flight handlers (their `ctx.signal` aborts). So does a reset or a vanished peer.
 * @module
 */
import type { Duplex } from 'node:stream';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import { ChunkBuffer } from '../../jsonrpc/chunk-buffer.js';
import type { LineDecoder } from '../../jsonrpc/framing.js';
import type { JsonRpcErrorResponse, JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import type { AuthInfo } from '../../protocol/types.js';
import { createLineReader } from '../shared/line-reader.js';
import { LineWriter } from '../shared/line-writer.js';
import { ResponseSpacing } from '../shared/response-spacing.js';
import type { BinaryCodecName, StreamCodecName } from './codec.js';
import {
  BINARY_CODECS,
  chooseCodec,
  CODEC_METHOD,
  codecAnswerLine,
  codecRequest,
  createFrameReader,
  MessagePackEncoder,
  readCodecAnswer,
  readCodecRequest,
} from './codec.js';
import { FrameWriter } from './frame-writer.js';

/** The byte-stream bindings, as named in `MessageContext.binding`. */
export type StreamBinding = 'tcp' | 'unix' | 'tls';

/** Default wait in ms for the peer to close its side after `close()`, before the socket is destroyed. */
export const DEFAULT_STREAM_CLOSE_TIMEOUT_MS = 2000;

/** Default wait in ms for the server's answer to a codec request; after it the client stays on NDJSON. */
export const DEFAULT_CODEC_TIMEOUT_MS = 5000;

/** Options of {@link SocketTransport}. */
export interface SocketTransportOptions {
  /** The binding name reported in `MessageContext.binding`. */
  binding: StreamBinding;
  /** `server` (default) answers bad frames and may grant a codec; `client` reports bad frames and may ask for one. */
  role?: 'server' | 'client';
  /** Longest accepted message in bytes (a line, or a binary frame's payload). Default 4 MiB. */
  maxMessageBytes?: number;
  /** Server: binary codecs it grants, in preference order. Default `['msgpack']`; `[]` disables negotiation. */
  codecs?: readonly BinaryCodecName[];
  /** Client: binary codecs to ask for in the first line, in preference order. Default none (plain NDJSON). */
  requestCodecs?: readonly BinaryCodecName[];
  /** Client: time in ms to wait for the codec answer; then NDJSON is kept. Default 5000. */
  codecTimeoutMs?: number;
  /** Server: the identity every inbound message carries (the verified mTLS client certificate). */
  authInfo?: AuthInfo;
  /**
   * Server: delay in ms before writing a response whose request sent notifications, in a write of
   * its own (see the shared `ResponseSpacing`). Default 2; 0 writes it with the rest.
   */
  responseAfterNotificationDelayMs?: number;
  /** Time in ms `close()` waits for the peer to close its side before destroying the socket. Default 2000. */
  closeTimeoutMs?: number;
  /** Client: turns a socket error into the error reported (connection setup names TLS problems). */
  describeError?: (error: Error) => Error;
}

/** One MCP connection over a connected socket. */
export class SocketTransport implements Transport {
  readonly binding: StreamBinding;
  /** The underlying socket. */
  readonly socket: Duplex;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** Resolves when the transport has closed. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #role: 'server' | 'client';
  #context: MessageContext;
  #maxMessageBytes: number;
  #offers: readonly BinaryCodecName[];
  #asks: readonly BinaryCodecName[];
  #codecTimeoutMs: number;
  #closeTimeoutMs: number;
  #describe: (error: Error) => Error;
  #spacing: ResponseSpacing | undefined;
  #codec: StreamCodecName = 'ndjson';
  #lines: LineDecoder;
  #lineWriter: LineWriter;
  #frameWriter: FrameWriter | undefined;
  /** Where inbound bytes go: the negotiation scanner, the line decoder or the frame decoder. */
  #read: (chunk: Buffer) => void;
  /** The bytes of an incomplete first line, held in blocks (however small the reads). */
  #preamble = new ChunkBuffer();
  #negotiation: { resolve: () => void; timer: ReturnType<typeof setTimeout> } | undefined;
  #negotiationTimedOut = false;
  #started = false;
  #closing = false;
  #finished = false;
  #destroyTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param socket a connected socket (for TLS: after the handshake)
   * @param options see {@link SocketTransportOptions}
   */
  constructor(socket: Duplex, options: SocketTransportOptions) {
    this.socket = socket;
    this.binding = options.binding;
    this.#role = options.role ?? 'server';
    this.#context = Object.freeze(
      options.authInfo
        ? { binding: options.binding, authInfo: options.authInfo }
        : { binding: options.binding },
    );
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#offers = this.#role === 'server' ? (options.codecs ?? BINARY_CODECS) : [];
    this.#asks = this.#role === 'client' ? (options.requestCodecs ?? []) : [];
    this.#codecTimeoutMs = options.codecTimeoutMs ?? DEFAULT_CODEC_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_STREAM_CLOSE_TIMEOUT_MS;
    this.#describe = options.describeError ?? ((e) => e);
    if (this.#role === 'server')
      this.#spacing = new ResponseSpacing(options.responseAfterNotificationDelayMs);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#lines = createLineReader({
      maxMessageBytes: this.#maxMessageBytes,
      onmessage: this.#deliver,
      oninvalid: (response, line) => this.#invalid(response, line),
    });
    this.#lineWriter = new LineWriter(socket);
    this.#lineWriter.onerror = (e) => this.onerror?.(e);
    // The scanner looks at the first line only when there is something to negotiate.
    this.#read =
      this.#offers.length > 0 || this.#asks.length > 0 ? this.#scanPreamble : (c) => this.#lines.push(c);
  }

  /** What the connection speaks now: `ndjson`, or the negotiated binary codec. */
  get codec(): StreamCodecName {
    return this.#codec;
  }

  /** The context inbound messages arrive with (binding, and the mTLS identity on a server). */
  get context(): MessageContext {
    return this.#context;
  }

  /** Bytes not yet handed to the OS (queued, or in the socket's buffer). */
  get pendingBytes(): number {
    return (this.#frameWriter ?? this.#lineWriter).pendingBytes;
  }

  /**
   * Begins reading. A client that asks for a codec sends the request first and resolves once the
   * server has answered (or `codecTimeoutMs` passed).
   * @throws McpError `CONNECTION_CLOSED` when the connection closes during the negotiation
   */
  start(): Promise<void> {
    if (this.#started) throw new Error('anywire: SocketTransport already started');
    this.#started = true;
    const s = this.socket;
    s.on('data', this.#ondata);
    s.on('end', this.#onend);
    s.on('error', this.#onerr);
    s.on('close', this.#onsocketclose);
    if (this.#finished || s.destroyed) {
      this.#finish();
      return Promise.reject(new McpError('CONNECTION_CLOSED', `the ${this.binding} connection is closed`));
    }
    if (this.#asks.length === 0) return Promise.resolve();
    s.write(`${JSON.stringify(codecRequest(this.#asks))}\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // No answer: stay on NDJSON; a late grant is detected in #deliver.
        this.#negotiationTimedOut = true;
        this.#endNegotiation('ndjson', Buffer.alloc(0));
      }, this.#codecTimeoutMs);
      timer.unref?.();
      this.#negotiation = { resolve, timer };
      void this.closed.then(() => {
        if (this.#negotiation) {
          clearTimeout(timer);
          this.#negotiation = undefined;
          reject(
            new McpError(
              'CONNECTION_CLOSED',
              `the ${this.binding} connection closed during codec negotiation`,
            ),
          );
        }
      });
    });
  }

  /**
   * Sends one message or batch in the connection's codec. Resolves at once, or when the socket
   * drains if its buffer is full. A server drops sends after close; a client rejects them.
   * @throws McpError `NOT_CONNECTED` (client) when the connection is closed
   */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.#closing) {
      return this.#role === 'server'
        ? Promise.resolve()
        : Promise.reject(new McpError('NOT_CONNECTED', `the ${this.binding} connection is closed`));
    }
    const delay = this.#spacing?.delayFor(message, options?.relatedRequestId) ?? 0;
    if (delay > 0) {
      return new Promise((resolve) => {
        setTimeout(() => {
          if (this.#closing) return resolve();
          this.#flushNow();
          resolve(this.#write(message));
        }, delay);
      });
    }
    return this.#write(message);
  }

  /** Writes what is queued, half-closes, and fires `onclose`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#flushNow();
    this.#frameWriter?.close();
    const s = this.socket;
    s.off('data', this.#ondata);
    if (!s.destroyed) {
      s.end();
      this.#destroyTimer = setTimeout(() => s.destroy(), this.#closeTimeoutMs);
      this.#destroyTimer.unref?.();
    }
    this.#finish();
  }

  /** Closes at once: the socket is destroyed (RST if data is unread) and `onclose` fires. */
  destroy(error?: Error): void {
    this.#closing = true;
    this.#frameWriter?.close();
    this.#lineWriter.close();
    this.socket.destroy(error);
    this.#finish();
  }

  #write(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    const p = (this.#frameWriter ?? this.#lineWriter).send(message);
    // A full buffer makes the writer wait for `drain`, which never comes if the socket dies.
    return (this.socket as { writableNeedDrain?: boolean }).writableNeedDrain
      ? Promise.race([p, this.closed])
      : p;
  }

  #flushNow(): void {
    this.#lineWriter.flushNow();
    this.#frameWriter?.flushNow();
  }

  #ondata = (chunk: Buffer): void => this.#read(chunk);

  #deliver = (message: JsonRpcMessage | JsonRpcMessage[]): void => {
    if (
      this.#negotiationTimedOut &&
      !Array.isArray(message) &&
      'id' in message &&
      message.id === CODEC_METHOD
    ) {
      this.#negotiationTimedOut = false;
      const answer = 'result' in message ? (message.result as { codec?: unknown }).codec : 'ndjson';
      if (answer !== undefined && answer !== 'ndjson') {
        this.onerror?.(
          new McpError('PROTOCOL_ERROR', `the server granted codec ${String(answer)} after codecTimeoutMs`),
        );
        this.destroy();
      }
      return;
    }
    this.onmessage?.(message, this.#context);
  };

  #invalid(response: JsonRpcErrorResponse, line?: string): void {
    if (this.#role === 'server') {
      this.onerror?.(
        new McpError('PROTOCOL_ERROR', `invalid message on ${this.binding}: ${response.error.message}`),
      );
      void this.#write(response).catch(() => {});
    } else {
      this.onerror?.(
        new McpError(
          'PROTOCOL_ERROR',
          `ignored a frame from the server that is not JSON-RPC (${response.error.message})${line ? `: ${line.slice(0, 200)}` : ''}`,
        ),
      );
    }
  }

  /** Reads up to the first complete line: a codec request (server) or answer (client). */
  #scanPreamble = (chunk: Buffer): void => {
    const nl = chunk.indexOf(0x0a);
    if (nl < 0) {
      this.#preamble.append(chunk);
      // Too long to be a negotiation line: hand everything to the line decoder (which reports it).
      if (this.#preamble.length > this.#maxMessageBytes) this.#takePreamble('ndjson', Buffer.alloc(0));
      return;
    }
    const head = this.#preamble.concat(chunk.subarray(0, nl));
    const line = Buffer.from(head.buffer, head.byteOffset, head.length).toString('utf8');
    const rest = chunk.subarray(nl + 1);
    if (this.#role === 'server') this.#serverPreamble(line, chunk, rest);
    else this.#clientPreamble(line, rest);
  };

  #serverPreamble(line: string, chunk: Buffer, rest: Buffer): void {
    const request = readCodecRequest(line);
    if (!request) {
      // An ordinary first message: the whole preamble goes to the line decoder.
      this.#takePreamble('ndjson', chunk);
      return;
    }
    const codec = chooseCodec(request.accept, this.#offers) ?? 'ndjson';
    this.#preamble.clear();
    // Written directly: nothing else can be queued before the answer to the first line.
    this.socket.write(codecAnswerLine(request.id, codec));
    this.#switch(codec, rest);
  }

  #clientPreamble(line: string, rest: Buffer): void {
    this.#preamble.clear();
    const answer = readCodecAnswer(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (answer === undefined) {
      // Not the answer (a server that writes first): an ordinary line; keep looking.
      this.#lines.push(Buffer.from(`${line}\n`));
      if (rest.length) this.#scanPreamble(rest);
      return;
    }
    if (answer !== 'ndjson' && !(this.#asks as readonly string[]).includes(answer)) {
      this.onerror?.(
        new McpError('PROTOCOL_ERROR', `the server granted codec ${answer}, which was not asked for`),
      );
      this.destroy();
      return;
    }
    this.#endNegotiation(answer as StreamCodecName, rest);
  }

  #endNegotiation(codec: StreamCodecName, rest: Buffer): void {
    const n = this.#negotiation;
    this.#negotiation = undefined;
    if (n) clearTimeout(n.timer);
    this.#takePreamble(codec, rest);
    n?.resolve();
  }

  /** Leaves the preamble: buffered bytes, then `rest`, go to the decoder of `codec`. */
  #takePreamble(codec: StreamCodecName, rest: Buffer): void {
    const held = this.#preamble.length > 0 ? this.#preamble.concat() : undefined;
    this.#preamble.clear();
    this.#switch(codec, rest, held);
  }

  #switch(codec: StreamCodecName, rest: Buffer, held?: Uint8Array): void {
    this.#codec = codec;
    if (codec === 'ndjson') {
      this.#read = (c) => this.#lines.push(c);
    } else {
      const encoder = new MessagePackEncoder();
      this.#frameWriter = new FrameWriter(this.socket, (m) => encoder.frame(m));
      this.#frameWriter.onerror = (e) => this.onerror?.(e);
      const frames = createFrameReader({
        maxMessageBytes: this.#maxMessageBytes,
        onmessage: this.#deliver,
        oninvalid: (response) => this.#invalid(response),
      });
      this.#read = (c) => frames.push(c);
    }
    if (held) this.#read(Buffer.from(held.buffer, held.byteOffset, held.length));
    if (rest.length) this.#read(rest);
  }

  #onend = (): void => void this.close();

  #onerr = (error: Error): void => {
    this.onerror?.(this.#describe(error));
  };

  #onsocketclose = (): void => {
    if (this.#destroyTimer) clearTimeout(this.#destroyTimer);
    this.#closing = true;
    this.#frameWriter?.close();
    this.#finish();
  };

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolveClosed();
    this.onclose?.();
  }
}
