/**
 * The JSON-RPC engine shared by servers and clients: request/response correlation with ids unique
 * per sender, per-request timeouts (optionally reset by progress, bounded by a maximum),
 * cancellation both ways (`notifications/cancelled`, surfaced as an `AbortSignal`), progress
 * routing by `progressToken`, and batches where the owner allows them.
 * (MCP basic/index "Requests", basic/utilities/cancellation, basic/utilities/progress.)
 * @module
 */
import { ErrorCode, errorResponse, JsonRpcError } from '../jsonrpc/errors.js';
import type {
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '../jsonrpc/types.js';
import { AUTH_ERROR_CODE, AuthError } from './auth.js';
import { McpError } from './errors.js';
import type { MessageContext, SendOptions, Transport } from './transport.js';
import type { JsonObject } from './types.js';

/** Default time to wait for a response: 60 000 ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** A progress update (`notifications/progress` params). */
export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** Options of one outbound request. */
export interface RequestOptions {
  /** Aborts the request: `notifications/cancelled` is sent and the promise rejects with `REQUEST_CANCELLED`. */
  signal?: AbortSignal;
  /** Time to wait for the response in ms. Default: the peer's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Restart the timeout whenever progress arrives. Default false. */
  resetTimeoutOnProgress?: boolean;
  /** Hard cap in ms even when progress keeps resetting the timeout. Default: none. */
  maxTotalTimeoutMs?: number;
  /** Receives `notifications/progress` for this request; sets `_meta.progressToken`. */
  onprogress?: (progress: Progress) => void;
  /** Routes the request onto the stream of this inbound request (HTTP). */
  relatedRequestId?: JsonRpcId;
}

/** Options of a {@link Peer}. */
export interface PeerOptions {
  /** Default per-request timeout in ms. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

/** An inbound request being handled: its id, cancellation state and lazily created signal. */
export class InboundCall {
  readonly id: JsonRpcId;
  readonly method: string;
  #controller: AbortController | undefined;
  #cancelled = false;
  #reason: unknown;

  constructor(id: JsonRpcId, method: string) {
    this.id = id;
    this.method = method;
  }

  /** Fires when the peer cancels the request or the connection closes. Created on first use. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** True once cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Cancels the call; its response will not be sent. */
  cancel(reason?: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reason = reason ?? new McpError('REQUEST_CANCELLED', `request ${String(this.id)} cancelled`);
    this.#controller?.abort(this.#reason);
  }
}

/** What the owner of a peer (a server or client session) provides. */
export interface PeerHandlers {
  /** Handles an inbound request; resolves to its result or throws (a `JsonRpcError` goes on the wire as is). */
  onrequest: (
    request: JsonRpcRequest,
    call: InboundCall,
    context: MessageContext,
  ) => Promise<JsonObject> | JsonObject;
  /** Handles an inbound notification other than cancellation and progress for our requests. */
  onnotification?: (notification: JsonRpcNotification, context: MessageContext) => void;
  /** Whether a batch is allowed now (revision 2025-03-26 only). Default: never. */
  allowBatch?: () => boolean;
  /** The transport closed. */
  onclose?: () => void;
  /** A non-fatal error. */
  onerror?: (error: Error) => void;
}

interface Pending {
  resolve: (result: JsonObject) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  timeoutMs: number;
  startedAt: number;
  options: RequestOptions | undefined;
  cleanup: (() => void) | undefined;
}

/** One side of a JSON-RPC connection over a {@link Transport}. */
export class Peer {
  readonly transport: Transport;
  readonly requestTimeoutMs: number;
  #handlers: PeerHandlers;
  #nextId = 1;
  #pending = new Map<JsonRpcId, Pending>();
  #progressTokens = new Map<JsonRpcId, JsonRpcId>();
  #inbound = new Map<JsonRpcId, InboundCall>();
  #closed = false;

  constructor(transport: Transport, handlers: PeerHandlers, options: PeerOptions = {}) {
    this.transport = transport;
    this.#handlers = handlers;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    transport.onmessage = (message, context) => this.receive(message, context);
    transport.onclose = () => this.#onclose();
    transport.onerror = (error) => this.#handlers.onerror?.(error);
  }

  /** Starts the transport. */
  start(): Promise<void> {
    return this.transport.start();
  }

  /** True once the transport closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The id of the most recent outbound request (ids are assigned synchronously by `request`). */
  get lastRequestId(): number {
    return this.#nextId - 1;
  }

  /** Number of inbound requests being handled. */
  get inFlight(): number {
    return this.#inbound.size;
  }

  /**
   * Sends a request and resolves with its result.
   * @throws JsonRpcError when the peer answers with an error;
   *   McpError `REQUEST_TIMEOUT`, `REQUEST_CANCELLED`, `CONNECTION_CLOSED` locally, or the McpError the
   *   transport's `send()` rejected with (e.g. `HTTP_ERROR` with its `status`).
   */
  request(method: string, params?: JsonObject, options?: RequestOptions): Promise<JsonObject> {
    if (this.#closed) return Promise.reject(new McpError('CONNECTION_CLOSED', 'connection closed'));
    const id = this.#nextId++;
    let sentParams = params;
    if (options?.onprogress) {
      sentParams = { ...params, _meta: { ...(params?._meta as JsonObject | undefined), progressToken: id } };
      this.#progressTokens.set(id, id);
    }
    const message: JsonRpcRequest =
      sentParams === undefined
        ? { jsonrpc: '2.0', id, method }
        : { jsonrpc: '2.0', id, method, params: sentParams };
    return new Promise<JsonObject>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) {
        reject(
          new McpError('REQUEST_CANCELLED', `${method} cancelled before it was sent`, {
            cause: signal.reason,
          }),
        );
        return;
      }
      const entry: Pending = {
        resolve,
        reject,
        timer: undefined,
        timeoutMs: options?.timeoutMs ?? this.requestTimeoutMs,
        startedAt: Date.now(),
        options,
        cleanup: undefined,
      };
      this.#pending.set(id, entry);
      this.#arm(id, entry);
      if (signal) {
        const onabort = () => this.#abandon(id, 'REQUEST_CANCELLED', `${method} cancelled`, signal.reason);
        signal.addEventListener('abort', onabort, { once: true });
        entry.cleanup = () => signal.removeEventListener('abort', onabort);
      }
      const sendOptions: SendOptions | undefined =
        options?.relatedRequestId !== undefined ? { relatedRequestId: options.relatedRequestId } : undefined;
      this.transport.send(message, sendOptions).catch((error: Error) => {
        // A transport's own local error (e.g. HTTP_ERROR with its status) is kept: the client's
        // era verdict reads it. Anything else means the message never left.
        this.#settle(id)?.reject(
          error instanceof McpError
            ? error
            : new McpError('CONNECTION_CLOSED', `could not send ${method}: ${error.message}`, {
                cause: error,
              }),
        );
      });
    });
  }

  /** Sends a notification. */
  notify(method: string, params?: JsonObject, options?: SendOptions): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const message: JsonRpcNotification =
      params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    return this.transport.send(message, options);
  }

  /** Sends a raw message (responses built elsewhere, forwarded messages). */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.transport.send(message, options);
  }

  /** Closes the transport; pending requests reject with `CONNECTION_CLOSED`. */
  async close(): Promise<void> {
    await this.transport.close();
    this.#onclose();
  }

  /** Feeds an inbound message (the transport's `onmessage`). */
  receive(message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext): void {
    if (Array.isArray(message)) {
      this.#receiveBatch(message, context);
      return;
    }
    if ('method' in message) {
      if ('id' in message) {
        this.handleRequest(message, context).then((response) => {
          if (response) this.send(response, { relatedRequestId: message.id }).catch(() => {});
        });
      } else this.#notification(message, context);
    } else this.#response(message);
  }

  /**
   * Runs the owner's handler for one request and builds its response, or `undefined` when the request
   * was cancelled (a cancelled request gets no response, basic/utilities/cancellation).
   */
  async handleRequest(
    request: JsonRpcRequest,
    context: MessageContext,
  ): Promise<JsonRpcResponse | undefined> {
    const call = new InboundCall(request.id, request.method);
    this.#inbound.set(request.id, call);
    try {
      const result = await this.#handlers.onrequest(request, call, context);
      if (call.cancelled) return undefined;
      return { jsonrpc: '2.0', id: request.id, result };
    } catch (error) {
      if (call.cancelled) return undefined;
      return toErrorResponse(request.id, error);
    } finally {
      if (this.#inbound.get(request.id) === call) this.#inbound.delete(request.id);
    }
  }

  #receiveBatch(batch: JsonRpcMessage[], context: MessageContext): void {
    if (!this.#handlers.allowBatch?.()) {
      this.send(
        errorResponse(
          null,
          ErrorCode.InvalidRequest,
          'Invalid Request: batches are allowed only in protocol revision 2025-03-26',
        ),
      ).catch(() => {});
      return;
    }
    const answers: Promise<JsonRpcResponse | undefined>[] = [];
    for (const m of batch) {
      if ('method' in m) {
        if ('id' in m) answers.push(this.handleRequest(m, context));
        else this.#notification(m, context);
      } else this.#response(m);
    }
    if (answers.length === 0) return;
    Promise.all(answers).then((responses) => {
      const out = responses.filter((r): r is JsonRpcResponse => r !== undefined);
      if (out.length > 0) this.send(out).catch(() => {});
    });
  }

  #notification(n: JsonRpcNotification, context: MessageContext): void {
    const params = n.params as JsonObject | undefined;
    if (n.method === 'notifications/cancelled') {
      const id = params?.requestId as JsonRpcId | undefined;
      if (id !== undefined) this.#inbound.get(id)?.cancel(params?.reason);
      // Also tell the owner: a listen stream or a bridge may care.
      this.#handlers.onnotification?.(n, context);
      return;
    }
    if (n.method === 'notifications/progress' && params) {
      const requestId = this.#progressTokens.get(params.progressToken as JsonRpcId);
      const entry = requestId === undefined ? undefined : this.#pending.get(requestId);
      if (entry) {
        if (entry.options?.resetTimeoutOnProgress) this.#arm(requestId!, entry);
        try {
          entry.options?.onprogress?.(params as unknown as Progress);
        } catch (error) {
          this.#handlers.onerror?.(error as Error);
        }
        return;
      }
    }
    this.#handlers.onnotification?.(n, context);
  }

  #response(r: JsonRpcResponse): void {
    if (r.id === null) {
      const e = (r as JsonRpcErrorResponse).error;
      this.#handlers.onerror?.(new JsonRpcError(e.code, `peer reported: ${e.message}`, e.data));
      return;
    }
    const entry = this.#settle(r.id);
    if (!entry) return; // late answer to a timed-out or cancelled request
    if ('error' in r) entry.reject(JsonRpcError.fromWire(r.error));
    else entry.resolve(r.result);
  }

  #arm(id: JsonRpcId, entry: Pending): void {
    if (entry.timer) clearTimeout(entry.timer);
    let ms = entry.timeoutMs;
    const max = entry.options?.maxTotalTimeoutMs;
    if (max !== undefined) ms = Math.min(ms, Math.max(0, entry.startedAt + max - Date.now()));
    entry.timer = setTimeout(
      () => this.#abandon(id, 'REQUEST_TIMEOUT', `request timed out after ${ms} ms`),
      ms,
    );
  }

  #settle(id: JsonRpcId): Pending | undefined {
    const entry = this.#pending.get(id);
    if (!entry) return undefined;
    this.#pending.delete(id);
    this.#progressTokens.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    entry.cleanup?.();
    return entry;
  }

  #abandon(
    id: JsonRpcId,
    code: 'REQUEST_TIMEOUT' | 'REQUEST_CANCELLED',
    message: string,
    cause?: unknown,
  ): void {
    const entry = this.#settle(id);
    if (!entry) return;
    const reason = code === 'REQUEST_TIMEOUT' ? 'timeout' : String(cause ?? 'cancelled by the caller');
    this.notify(
      'notifications/cancelled',
      { requestId: id, reason },
      entry.options?.relatedRequestId !== undefined
        ? { relatedRequestId: entry.options.relatedRequestId }
        : undefined,
    ).catch(() => {});
    entry.reject(new McpError(code, message, cause === undefined ? undefined : { cause }));
  }

  #onclose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id)?.reject(
        new McpError('CONNECTION_CLOSED', 'connection closed before the response arrived'),
      );
    }
    for (const call of this.#inbound.values())
      call.cancel(new McpError('CONNECTION_CLOSED', 'connection closed'));
    this.#inbound.clear();
    this.#handlers.onclose?.();
  }
}

/**
 * Turns a thrown value into an error response: `JsonRpcError` as is; an `AuthError` (middleware
 * refusing, e.g. a missing tool scope) as {@link AUTH_ERROR_CODE} with `data: { status,
 * wwwAuthenticate, error? }`; anything else -32603.
 */
export function toErrorResponse(id: JsonRpcId | null, error: unknown): JsonRpcErrorResponse {
  if (error instanceof JsonRpcError) return { jsonrpc: '2.0', id, error: error.toObject() };
  if (error instanceof AuthError) {
    const data: JsonObject = { status: error.status, wwwAuthenticate: error.wwwAuthenticate };
    if (error.challenge.error !== undefined) data.error = error.challenge.error;
    const prefix = error.status === 403 ? 'Forbidden' : 'Unauthorized';
    const message = error.message.startsWith(prefix) ? error.message : `${prefix}: ${error.message}`;
    return { jsonrpc: '2.0', id, error: { code: AUTH_ERROR_CODE, message, data } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return errorResponse(id, ErrorCode.InternalError, `Internal error: ${message}`);
}
