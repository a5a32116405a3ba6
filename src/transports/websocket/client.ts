/**
 * The WebSocket binding, client side. Runs in browsers, Deno and Bun (the built-in `WebSocket`) and
 * on Node (`ws` where it is installed, for its refusal statuses and headers; else Node 22+'s global
 * `WebSocket`; the import is dynamic so bundles for browsers do not pull it in). One JSON-RPC message per text frame, subprotocol `mcp`; cancellation is the
 * `notifications/cancelled` message the client sends (basic/utilities/cancellation), and a closed
 * connection rejects pending requests with `CONNECTION_CLOSED`. A custom transport in the sense of
 * 2026-07-28 basic/transports (SEP-1288 is a draft). Close codes: `close-codes.ts`.
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, Transport } from '../../protocol/transport.js';
import { DEFAULT_WS_MAX_MESSAGE_BYTES, hardFrameCap, MCP_SUBPROTOCOL, WS_CLOSE } from './close-codes.js';
import { exceedsBytes, peekLeadingId, utf8Length } from './codec.js';
import { checkNumbers } from '../shared/options.js';

/**
 * The part of the WHATWG `WebSocket` API this transport uses. The browser's `WebSocket`, the Node 22+
 * global, and `ws`'s `WebSocket` all satisfy it.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** Bytes queued by `send()` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** The subprotocol the server selected. */
  readonly protocol: string;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
}

/** A `WebSocket` constructor. The third argument (Node `ws` options: headers, TLS) is ignored by browsers. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: Record<string, unknown>,
) => WebSocketLike;

/** Options of {@link WebSocketClientTransport}. */
export interface WebSocketClientTransportOptions {
  /** Subprotocols offered. Default `['mcp']`. */
  protocols?: string[];
  /**
   * Extra headers of the upgrade request, e.g. `{ authorization: 'Bearer ...' }`. Node only (`ws`):
   * browsers cannot set WebSocket headers, and `start()` rejects there.
   */
  headers?: Record<string, string>;
  /**
   * The `WebSocket` constructor to use. Default: on Node, `ws` imported on demand (the global
   * `WebSocket` when `ws` is missing); elsewhere the global `WebSocket`.
   */
  WebSocket?: WebSocketConstructor;
  /** Extra options for the `ws` constructor (Node only): `ca`, `rejectUnauthorized`, `agent`, ... */
  wsOptions?: Record<string, unknown>;
  /**
   * Largest accepted message from the server in bytes; a bigger one is dropped and reported through
   * `onerror` (`MESSAGE_TOO_LARGE`), and the request it answers fails at once when its id can be
   * read. On `ws`, frames over twice this close the connection with 1009. Default 4 MiB.
   */
  maxMessageBytes?: number;
  /** Time in ms to wait for the opening handshake. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Backpressure threshold in bytes of queued output (`bufferedAmount`): above it `send()` resolves
   * only once the queue has drained below it. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Time in ms `close()` waits for the server's close frame. Default 2000. */
  closeTimeoutMs?: number;
}

const CONTEXT: MessageContext = Object.freeze({ binding: 'websocket' });
const OPEN = 1;
const DRAIN_POLL_MS = 10;
const DONE = Promise.resolve();
const UNEXPECTED_STATUS = /Unexpected server response: (\d{3})/;
const RESPONSE_HEAD =
  /^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(?:-?\d+|"(?:[^"\\]|\\.)*")\s*,\s*"(?:result|error)"/;

let wsModule: Promise<WebSocketConstructor> | undefined;

/** Imports `ws` without letting bundlers follow the import (browsers never reach this). */
function importWs(): Promise<WebSocketConstructor> {
  const specifier = 'ws';
  wsModule ??= import(/* webpackIgnore: true */ /* @vite-ignore */ specifier).then(
    (m: { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor }) => (m.WebSocket ?? m.default)!,
  );
  return wsModule;
}

/**
 * A client connection to an MCP server over WebSocket (`ws://` or `wss://`).
 *
 * @example
 * const client = new Client({ name: 'app', version: '1.0.0' });
 * await client.connect(new WebSocketClientTransport('ws://127.0.0.1:8080/mcp'));
 */
export class WebSocketClientTransport implements Transport {
  readonly binding = 'websocket';
  readonly url: string;
  readonly options: WebSocketClientTransportOptions;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  #socket: WebSocketLike | undefined;
  #starting = false;
  #closing = false;
  #closed = false;
  #closeCode: number | undefined;
  #closeReason = '';
  #maxMessageBytes: number;
  #maxBufferedBytes: number;
  #whenClosed: Promise<void>;
  #resolveClosed!: () => void;

  /**
   * @param url `ws://` or `wss://` endpoint (a `URL` or string)
   * @param options see {@link WebSocketClientTransportOptions}
   */
  /** @throws RangeError naming a numeric option out of range */
  constructor(url: string | URL, options: WebSocketClientTransportOptions = {}) {
    checkNumbers({
      maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
      connectTimeoutMs: [options.connectTimeoutMs, { min: 1 }],
      maxBufferedBytes: [options.maxBufferedBytes, { min: 1 }],
      closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
    });
    this.url = String(url);
    this.options = options;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE_BYTES;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.#whenClosed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** The close code once closed (ours or the server's; 1006 when the connection dropped). */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  /** The close reason that goes with {@link closeCode}. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** The subprotocol the server selected (`mcp`), once open. */
  get protocol(): string | undefined {
    return this.#socket?.protocol;
  }

  /**
   * Opens the connection.
   * @throws McpError `HTTP_ERROR` (with `status`) when the server refused the upgrade and the
   *   runtime tells us the status (`ws` does, browsers do not); `NOT_CONNECTED` on any other failure
   *   or after `connectTimeoutMs`.
   */
  async start(): Promise<void> {
    if (this.#starting) throw new Error('anywire: WebSocketClientTransport already started');
    this.#starting = true;
    const Ctor = await this.#resolveConstructor();
    const o = this.options;
    const protocols = o.protocols ?? [MCP_SUBPROTOCOL];
    let socket: WebSocketLike;
    try {
      socket = new Ctor(this.url, protocols, {
        maxPayload: hardFrameCap(this.#maxMessageBytes),
        ...o.wsOptions,
        ...(o.headers ? { headers: o.headers } : {}),
      });
    } catch (error) {
      this.#finish(WS_CLOSE.ABNORMAL, '');
      throw new McpError('NOT_CONNECTED', `cannot open ${this.url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    const ms = o.connectTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      let failure: Error | undefined;
      const timer = setTimeout(() => {
        failure = new McpError('NOT_CONNECTED', `WebSocket connect to ${this.url} timed out after ${ms} ms`);
        try {
          socket.close();
        } catch {}
        // Some runtimes never report the close of a socket that did not open.
        reject(failure);
        this.#finish(WS_CLOSE.ABNORMAL, '');
      }, ms);
      socket.onopen = () => {
        clearTimeout(timer);
        socket.onerror = this.#onsocketerror;
        socket.onclose = this.#onsocketclose;
        socket.onmessage = this.#onsocketmessage;
        resolve();
      };
      socket.onerror = (event: { error?: unknown; message?: string }) => {
        const message = (event.error as Error | undefined)?.message ?? event.message ?? 'connection failed';
        const status = UNEXPECTED_STATUS.exec(message)?.[1];
        failure ??= status
          ? new McpError('HTTP_ERROR', `WebSocket upgrade to ${this.url} refused with HTTP ${status}`, {
              status: Number(status),
              cause: event.error,
            })
          : new McpError('NOT_CONNECTED', `WebSocket connect to ${this.url} failed: ${message}`, {
              cause: event.error,
            });
      };
      socket.onclose = (event: { code?: number; reason?: string }) => {
        clearTimeout(timer);
        const err =
          failure ??
          new McpError(
            'NOT_CONNECTED',
            `WebSocket to ${this.url} closed during the handshake (${event.code ?? WS_CLOSE.ABNORMAL})`,
          );
        reject(err);
        this.#finish(event.code ?? WS_CLOSE.ABNORMAL, event.reason ?? '');
      };
    });
  }

  /**
   * Sends one message (or batch) as one text frame.
   * @throws McpError `NOT_CONNECTED` when the socket is not open
   */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    const socket = this.#socket;
    if (!socket || this.#closing || socket.readyState !== OPEN) {
      return Promise.reject(new McpError('NOT_CONNECTED', `the WebSocket to ${this.url} is not open`));
    }
    try {
      socket.send(JSON.stringify(message));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return socket.bufferedAmount > this.#maxBufferedBytes ? this.#drained(socket) : DONE;
  }

  /**
   * Closes with `code` (default 1000) and `reason`, waiting up to `closeTimeoutMs` for the server's
   * close frame. `onclose` fires once. Idempotent.
   */
  async close(code: number = WS_CLOSE.NORMAL, reason = ''): Promise<void> {
    if (this.#closed) return;
    const socket = this.#socket;
    if (!socket) {
      this.#finish(code, reason);
      return;
    }
    if (!this.#closing) {
      this.#closing = true;
      try {
        socket.close(code, reason);
      } catch {}
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#whenClosed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
    this.#finish(code, reason);
  }

  async #resolveConstructor(): Promise<WebSocketConstructor> {
    const o = this.options;
    if (o.WebSocket) return o.WebSocket;
    const nodeOnly = o.headers !== undefined || o.wsOptions !== undefined;
    const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    // On Node, `ws` first where it is installed: unlike Node 22+'s global WebSocket it reports the
    // status of a refused upgrade (401, 403), which the HTTP_ERROR refusal carries.
    const onNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
    if (global && !nodeOnly && !onNode) return global;
    try {
      return await importWs();
    } catch (error) {
      if (global && !nodeOnly) return global;
      this.#finish(WS_CLOSE.ABNORMAL, '');
      throw new McpError(
        'NOT_CONNECTED',
        nodeOnly
          ? 'WebSocket headers and wsOptions need the `ws` package (Node); browsers cannot set WebSocket headers'
          : 'no WebSocket implementation: this runtime has no global WebSocket and `ws` is not installed',
        { cause: error },
      );
    }
  }

  #onsocketmessage = (event: { data: unknown }): void => {
    const data = event.data;
    if (typeof data !== 'string') {
      this.onerror?.(new McpError('PROTOCOL_ERROR', 'ignored a binary frame from the server'));
      return;
    }
    if (exceedsBytes(data, this.#maxMessageBytes)) {
      this.#tooLarge(data);
      return;
    }
    const r = parseMessage(data);
    if (!r.ok) {
      this.onerror?.(
        new McpError(
          'PROTOCOL_ERROR',
          `ignored a frame from the server that is not JSON-RPC (${r.error.error.message})`,
        ),
      );
      return;
    }
    if ('message' in r) {
      this.onmessage?.(r.message, CONTEXT);
      return;
    }
    for (const e of r.errors) {
      this.onerror?.(new McpError('PROTOCOL_ERROR', `ignored an invalid batch entry (${e.error.message})`));
    }
    if (r.batch.length) this.onmessage?.(r.batch, CONTEXT);
  };

  #tooLarge(data: string): void {
    const bytes = utf8Length(data);
    const why = `a message of ${bytes} bytes from the server exceeds maxMessageBytes (${this.#maxMessageBytes})`;
    this.onerror?.(new McpError('MESSAGE_TOO_LARGE', why));
    // Fail the request it answers now rather than at its timeout (only when the head shows a response).
    if (!RESPONSE_HEAD.test(data.length > 300 ? data.slice(0, 300) : data)) return;
    const id = peekLeadingId(data);
    if (id === undefined) return;
    this.onmessage?.(
      errorResponse(id, ErrorCode.InternalError, `anywire: ${why}`, {
        localError: 'MESSAGE_TOO_LARGE',
        bytes,
        maxMessageBytes: this.#maxMessageBytes,
      }),
      CONTEXT,
    );
  }

  #onsocketerror = (event: { error?: unknown; message?: string }): void => {
    const cause = event.error;
    const message = (cause as Error | undefined)?.message ?? event.message ?? 'WebSocket error';
    this.onerror?.(new McpError('CONNECTION_CLOSED', `WebSocket error: ${message}`, { cause }));
  };

  #onsocketclose = (event: { code?: number; reason?: string }): void => {
    const code = event.code ?? WS_CLOSE.ABNORMAL;
    const reason = event.reason ?? '';
    if (!this.#closing && code !== WS_CLOSE.NORMAL) {
      this.onerror?.(
        new McpError(
          'CONNECTION_CLOSED',
          `the server closed the WebSocket with ${code}${reason ? ` (${reason})` : ''}`,
        ),
      );
    }
    this.#finish(code, reason);
  };

  #drained(socket: WebSocketLike): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (socket.bufferedAmount <= this.#maxBufferedBytes || this.#closed) resolve();
        else setTimeout(check, DRAIN_POLL_MS);
      };
      setTimeout(check, DRAIN_POLL_MS);
    });
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    if (this.#closeCode === undefined) {
      this.#closeCode = code;
      this.#closeReason = reason;
    }
    const socket = this.#socket;
    if (socket) {
      socket.onmessage = null;
      socket.onopen = null;
      // Keep error/close handlers harmless rather than null: some runtimes throw on unhandled errors.
      socket.onerror = () => {};
      socket.onclose = null;
    }
    this.#resolveClosed();
    this.onclose?.();
  }
}
