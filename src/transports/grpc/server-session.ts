/**
 * The server side of one `Session` stream as a {@link Transport}: the stream is one MCP connection
 * carrying both eras, like one stdio process (`mcp.proto`, `rpc Session`). Frames in are parsed
 * and validated (bad ones answered -32700/-32600 on the stream, which keeps serving); messages out
 * become frames, with write backpressure honoured. A cancelled stream or a passed deadline closes
 * the transport, so the connection cancels every request in flight; a client half-close is
 * answered first (the stream ends OK once every request it sent was answered or cancelled).
 * @module
 */
import type { ServerDuplexStream, StatusObject } from '@grpc/grpc-js';
import type { JsonRpcId, JsonRpcMessage } from '../../jsonrpc/types.js';
import type { MessageContext, Transport } from '../../protocol/transport.js';
import type { JsonObject } from '../../protocol/types.js';
import { withTrace } from '../shared/ingress.js';
import { writeFrame } from './backpressure.js';
import { readFrame, toFrame } from './frame.js';
import type { Frame } from './proto.js';

const LISTEN = 'subscriptions/listen';
const DONE = Promise.resolve();

/** Options of {@link GrpcSessionTransport}. */
export interface GrpcSessionTransportOptions {
  /** Largest accepted JSON-RPC message in UTF-8 bytes; bigger frames get -32600. */
  maxMessageBytes: number;
  /** The context every inbound message carries (binding `grpc`, metadata as headers, auth). */
  context: MessageContext;
}

/** One accepted `Session` stream. */
export class GrpcSessionTransport implements Transport {
  readonly binding = 'grpc';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly context: MessageContext;
  #call: ServerDuplexStream<Frame, Frame>;
  #maxMessageBytes: number;
  /** Inbound requests not yet answered, by id, with their method. */
  #inflight = new Map<JsonRpcId, string>();
  #draining = false;
  #closed = false;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;

  constructor(call: ServerDuplexStream<Frame, Frame>, options: GrpcSessionTransportOptions) {
    this.#call = call;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.context = options.context;
  }

  /** Starts reading frames. */
  async start(): Promise<void> {
    const call = this.#call;
    call.on('data', (frame: Frame) => this.#receive(frame));
    call.on('end', () => this.drain());
    call.on('cancelled', () => this.#finish());
    call.on('error', (e: Error) => {
      if (this.#closed) return;
      this.onerror?.(e);
      this.#finish();
    });
    if (call.cancelled) this.#finish();
  }

  /** Number of inbound requests not yet answered. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** True once the stream ended (either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes one frame; resolves at once, or when the stream drains if its buffer is full. After the
   * stream ended it drops the message (the peer is gone) and resolves.
   */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed) return DONE;
    let answered = false;
    if (!Array.isArray(message)) answered = !('method' in message) && this.#answered(message.id);
    else for (const m of message) if (!('method' in m) && this.#answered(m.id)) answered = true;
    const written = writeFrame(this.#call, toFrame(message));
    if (answered && this.#draining) this.#endIfIdle();
    return written;
  }

  /**
   * Ends the stream once every request received so far is answered (long-lived
   * `subscriptions/listen` requests do not hold it open; they are cancelled with the stream).
   * Requests still arriving meanwhile are served. Resolves when the stream has ended.
   */
  drain(): Promise<void> {
    if (this.#closed) return DONE;
    this.#drained ??= new Promise((resolve) => {
      this.#resolveDrained = resolve;
    });
    this.#draining = true;
    this.#endIfIdle();
    return this.#drained;
  }

  /** Ends the stream with OK now; requests still in flight are cancelled by the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (!this.#call.cancelled) this.#call.end();
    this.#finish();
  }

  /**
   * Ends the stream now with an error status (e.g. UNAUTHENTICATED when the credentials expired,
   * with its trailers); requests still in flight are cancelled by the connection.
   */
  fail(error: Partial<StatusObject>): void {
    if (this.#closed) return;
    if (!this.#call.cancelled) this.#call.emit('error', error);
    this.#finish();
  }

  #answered(id: JsonRpcId | null): boolean {
    return id !== null && this.#inflight.delete(id);
  }

  #endIfIdle(): void {
    for (const method of this.#inflight.values()) if (method !== LISTEN) return;
    void this.close();
  }

  #receive(frame: Frame): void {
    if (this.#closed) return;
    const r = readFrame(frame.json, this.#maxMessageBytes);
    if (!r.ok) {
      this.onerror?.(new Error(`anywire: invalid gRPC frame: ${r.error.error.message}`));
      this.#call.write(toFrame(r.error));
      return;
    }
    if ('message' in r) {
      this.#track(r.message);
      this.onmessage?.(r.message, withTrace(this.context, r.message));
      return;
    }
    for (const e of r.errors) this.#call.write(toFrame(e));
    for (const m of r.batch) this.#track(m);
    if (r.batch.length) this.onmessage?.(r.batch, this.context);
  }

  #track(m: JsonRpcMessage): void {
    if (!('method' in m)) return;
    if ('id' in m) this.#inflight.set(m.id, m.method);
    else if (m.method === 'notifications/cancelled') {
      // A cancelled request gets no response (basic/utilities/cancellation): stop waiting for it.
      const id = (m.params as JsonObject | undefined)?.requestId as JsonRpcId | undefined;
      if (id !== undefined && this.#inflight.delete(id) && this.#draining)
        queueMicrotask(() => this.#endIfIdle());
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inflight.clear();
    this.#resolveDrained?.();
    this.onclose?.();
  }
}
