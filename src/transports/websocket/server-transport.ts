/**
 * One accepted WebSocket connection as a {@link Transport} (Node, on a `ws` socket): one JSON-RPC
 * message per text frame, bad frames answered and the connection kept, backpressure on the
 * socket's `bufferedAmount`, keep-alive probing, and close codes that say why (see
 * `close-codes.ts`). Give it to `server.connect()`; `attachWebSocket`/`serveWebSocket` do that for
 * every upgrade.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { JsonRpcErrorResponse, JsonRpcMessage } from '../../jsonrpc/types.js';
import { deliverParsed, parseMessage } from '../../jsonrpc/parse.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import type { AuthInfo } from '../../protocol/types.js';
import { watchExpiry, withTrace } from '../shared/ingress.js';
import { ResponseSpacing } from '../shared/response-spacing.js';
import { DEFAULT_WS_MAX_MESSAGE_BYTES, WS_CLOSE } from './close-codes.js';
import { BINARY_FRAME_RESPONSE, tooLargeResponse } from './codec.js';

/** Default `maxBufferedBytes`: 8 MiB of unsent output before we stop reading the peer. */
export const DEFAULT_WS_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Default `drainTimeoutMs`: 30 s for a peer to read its backlog before it is closed with 1008. */
export const DEFAULT_WS_DRAIN_TIMEOUT_MS = 30_000;
/** Default `closeTimeoutMs`: 2 s for the closing handshake before the socket is destroyed. */
export const DEFAULT_WS_CLOSE_TIMEOUT_MS = 2_000;

const OPEN = 1;
const DRAIN_POLL_MS = 10;
const DONE = Promise.resolve();

/**
 * The headers of an upgrade request as a handler sees them: lower-cased names, repeated values
 * joined with `, `.
 */
export function upgradeHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const h = req.headers;
  for (const k in h) {
    const v = h[k];
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Limits of one WebSocket connection (shared by the server options). */
export interface WebSocketConnectionLimits {
  /**
   * Largest accepted message in bytes. A bigger frame (up to twice this) is answered with a -32600
   * error response and the connection keeps serving; beyond that `ws` closes with 1009 before
   * reading it. Default 4 MiB.
   */
  maxMessageBytes?: number;
  /**
   * Backpressure threshold in bytes of output the peer has not read yet (`bufferedAmount`). Above
   * it we stop reading frames from the peer (in-flight requests still finish) until the backlog
   * drains below it. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Time in ms the backlog may stay over `maxBufferedBytes` before the connection is closed with 1008. Default 30 000. */
  drainTimeoutMs?: number;
  /** Time in ms to wait for the peer's close frame before the socket is destroyed. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * Delay in ms before sending a response whose request sent notifications (progress, logs). The
   * official SDK clients dispatch notifications a microtask later than responses, so a progress
   * notification read in the same chunk as its response is dropped by them. Default 2; 0 sends at once.
   */
  responseAfterNotificationDelayMs?: number;
}

/** Options of {@link WebSocketServerTransport}. */
export interface WebSocketServerTransportOptions extends WebSocketConnectionLimits {
  /** Headers of the upgrade request (lower-cased names), passed to handlers as `ctx.headers`. */
  headers?: Record<string, string | undefined>;
  /**
   * The identity established at the upgrade, passed to handlers as `ctx.authInfo`. When it has
   * `expiresAt` (seconds since the epoch), the connection is closed with 4001 at that time.
   */
  authInfo?: AuthInfo;
}

/**
 * A server-side WebSocket connection carrying MCP in both eras: `server.connect(transport)` gives
 * it a legacy session that lives as long as the connection, while modern requests stay
 * self-contained. Closing (either side) aborts the `ctx.signal` of in-flight handlers.
 *
 * @example
 * wss.on('connection', (ws, req) =>
 *   server.connect(new WebSocketServerTransport(ws, { headers: upgradeHeaders(req) })),
 * );
 */
export class WebSocketServerTransport implements Transport {
  readonly binding = 'websocket';
  /** What every inbound message arrives with: `{ binding: 'websocket', headers, authInfo }`. */
  readonly context: MessageContext;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly #ws: WebSocket;
  readonly #maxMessageBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #drainTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #spacing: ResponseSpacing;
  #started = false;
  #backlog: [RawData, boolean][] | undefined;
  #closing = false;
  #closed = false;
  #alive = true;
  #paused = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #drainPoll: ReturnType<typeof setTimeout> | undefined;
  #stopExpiry: () => void;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closeCode: number | undefined;
  #closeReason = '';
  #whenClosed: Promise<void>;
  #resolveClosed!: () => void;

  /**
   * @param ws an open `ws` WebSocket (server side)
   * @param options see {@link WebSocketServerTransportOptions}
   */
  constructor(ws: WebSocket, options: WebSocketServerTransportOptions = {}) {
    this.#ws = ws;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE_BYTES;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_WS_MAX_BUFFERED_BYTES;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_WS_DRAIN_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_WS_CLOSE_TIMEOUT_MS;
    this.#spacing = new ResponseSpacing(options.responseAfterNotificationDelayMs);
    const context: MessageContext = { binding: 'websocket' };
    if (options.headers) context.headers = options.headers;
    if (options.authInfo) context.authInfo = options.authInfo;
    this.context = Object.freeze(context);
    this.#whenClosed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    // Listen from the start; frames that arrive before start() wait in a backlog.
    ws.on('message', this.#onframe);
    ws.on('pong', this.#onpong);
    ws.on('close', this.#onwsclose);
    ws.on('error', this.#onwserror);
    this.#stopExpiry = watchExpiry(
      options.authInfo,
      () => void this.close(WS_CLOSE.CREDENTIALS_EXPIRED, 'credentials expired'),
    );
    if (ws.readyState !== OPEN) queueMicrotask(() => this.#finish(WS_CLOSE.ABNORMAL, ''));
  }

  /** Begins delivering frames (any that arrived earlier first). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#closed) {
      this.onclose?.();
      return;
    }
    const backlog = this.#backlog;
    this.#backlog = undefined;
    if (backlog) for (const [data, isBinary] of backlog) this.#frame(data as Buffer, isBinary);
  }

  /**
   * Sends one message (or batch) as one text frame. Resolves once handed to the socket; after
   * close it resolves without sending (the peer is gone).
   */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.#closing) return DONE;
    try {
      const delay = this.#spacing.delayFor(message, options?.relatedRequestId);
      if (delay > 0) {
        return new Promise((resolve, reject) => {
          setTimeout(() => {
            try {
              this.#write(message);
              resolve();
            } catch (error) {
              reject(error as Error);
            }
          }, delay);
        });
      }
      this.#write(message);
      return DONE;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Closes the connection with `code` (default 1000) and `reason` (at most 123 bytes), waits up to
   * `closeTimeoutMs` for the peer's close frame, then destroys the socket. `onclose` fires once the
   * socket has closed. Idempotent; resolves when closed.
   */
  close(code: number = WS_CLOSE.NORMAL, reason = ''): Promise<void> {
    if (this.#closed) return DONE;
    if (!this.#closing) {
      this.#closing = true;
      this.#closeCode = code;
      this.#closeReason = reason;
      if (this.#paused) {
        // Read again: the peer's close frame must get through.
        this.#stopBackpressure();
        this.#ws.resume();
      }
      try {
        this.#ws.close(code, reason);
      } catch {
        this.#ws.terminate();
      }
      this.#closeTimer = setTimeout(() => this.#ws.terminate(), this.#closeTimeoutMs);
      this.#closeTimer.unref?.();
    }
    return this.#whenClosed;
  }

  /** Destroys the socket now, without the closing handshake (the peer observes 1006). */
  terminate(): void {
    this.#closing = true;
    this.#ws.terminate();
  }

  /** The close code: the one we sent, else the one the peer sent (1006 if the TCP connection dropped). */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  /** The close reason that goes with {@link closeCode}. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Bytes of output the peer has not read yet. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** True while reading is paused because the peer is not draining its output. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * One keep-alive round (the attachment calls it every `keepAliveIntervalMs`): a peer that has
   * not answered the previous ping, nor sent anything since, is closed with 4000 and destroyed;
   * otherwise a new ping goes out. A peer we stopped reading (backpressure) is judged by
   * `drainTimeoutMs` instead.
   * @returns false when the peer was found dead
   */
  keepAlive(): boolean {
    if (this.#closing) return true;
    if (this.#paused) {
      this.#alive = true;
      return true;
    }
    if (!this.#alive) {
      this.#closing = true;
      this.#closeCode = WS_CLOSE.KEEP_ALIVE_TIMEOUT;
      this.#closeReason = 'keep-alive timeout';
      try {
        this.#ws.close(WS_CLOSE.KEEP_ALIVE_TIMEOUT, 'keep-alive timeout');
      } catch {}
      this.#ws.terminate();
      return false;
    }
    this.#alive = false;
    try {
      this.#ws.ping();
    } catch {}
    return true;
  }

  #write(message: JsonRpcMessage | JsonRpcMessage[]): void {
    const ws = this.#ws;
    if (ws.readyState !== OPEN) return;
    ws.send(JSON.stringify(message));
    if (!this.#paused && ws.bufferedAmount > this.#maxBufferedBytes) this.#startBackpressure();
  }

  #onframe = (data: RawData, isBinary: boolean): void => {
    this.#alive = true;
    if (this.#closing) return;
    if (!this.#started) {
      (this.#backlog ??= []).push([data, isBinary]);
      return;
    }
    this.#frame(data as Buffer, isBinary);
  };

  #frame(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.#invalid(BINARY_FRAME_RESPONSE);
      return;
    }
    // The frame's byte size is known without decoding it: an oversized one is never parsed.
    if (data.length > this.#maxMessageBytes) {
      this.#invalid(tooLargeResponse(data.length, this.#maxMessageBytes));
      return;
    }
    deliverParsed(
      parseMessage(data.toString()),
      (m) => this.onmessage?.(m, withTrace(this.context, m)),
      (e) => this.#invalid(e),
    );
  }

  #invalid(response: JsonRpcErrorResponse): void {
    this.onerror?.(new Error(`anywire: invalid WebSocket frame: ${response.error.message}`));
    try {
      this.#write(response);
    } catch {}
  }

  #onpong = (): void => {
    this.#alive = true;
  };

  #onwserror = (error: Error): void => {
    this.onerror?.(error);
  };

  #onwsclose = (code: number, reason: Buffer): void => {
    this.#finish(code, reason.toString());
  };

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    if (this.#closeCode === undefined) {
      this.#closeCode = code;
      this.#closeReason = reason;
    }
    this.#stopBackpressure();
    this.#stopExpiry();
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#backlog = undefined;
    const ws = this.#ws;
    ws.off('message', this.#onframe);
    ws.off('pong', this.#onpong);
    ws.off('close', this.#onwsclose);
    // Keep an error listener: a late socket error must not become an uncaught exception.
    this.#resolveClosed();
    if (this.#started) this.onclose?.();
  }

  // ------------------------------------------------------------------------------ backpressure

  #startBackpressure(): void {
    this.#paused = true;
    this.#ws.pause();
    this.#drainTimer = setTimeout(() => {
      this.onerror?.(
        new Error(
          `anywire: WebSocket peer did not read its output (${this.#ws.bufferedAmount} bytes over maxBufferedBytes ${this.#maxBufferedBytes}) within drainTimeoutMs (${this.#drainTimeoutMs})`,
        ),
      );
      void this.close(WS_CLOSE.POLICY_VIOLATION, 'peer does not read its messages');
    }, this.#drainTimeoutMs);
    this.#drainTimer.unref?.();
    this.#pollDrain();
  }

  #pollDrain = (): void => {
    this.#drainPoll = undefined;
    if (!this.#paused) return;
    if (this.#ws.bufferedAmount <= this.#maxBufferedBytes) {
      this.#stopBackpressure();
      this.#ws.resume();
      return;
    }
    this.#drainPoll = setTimeout(this.#pollDrain, DRAIN_POLL_MS);
  };

  #stopBackpressure(): void {
    this.#paused = false;
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    if (this.#drainPoll) clearTimeout(this.#drainPoll);
    this.#drainTimer = undefined;
    this.#drainPoll = undefined;
  }
}
