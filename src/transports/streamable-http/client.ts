/**
 * The Streamable HTTP binding, client side, for both protocol eras, runtime-neutral (fetch and web
 * streams only, so it runs in browsers, Deno, Bun, workers and Node).
 *
 * - Modern (2026-07-28 basic/transports/streamable-http): one POST per message with the request
 *   metadata headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*` learned from
 *   the `tools/list` results passing through), answers as JSON or an SSE stream, cancellation by
 *   closing the response stream, no resumption.
 * - Legacy (2025-03-26 … 2025-11-25 basic/transports "Streamable HTTP"): sessions
 *   (`Mcp-Session-Id`, re-initialization on 404, DELETE on close), `MCP-Protocol-Version` after
 *   `initialize`, the optional GET stream, server-to-client requests on any stream, resumption
 *   with `Last-Event-ID` honouring `retry:`.
 * - The 2024-11-05 HTTP+SSE transport as a fallback when `initialize` is refused with 400/404/405.
 *
 * The era is read from each message (`params._meta["io.modelcontextprotocol/protocolVersion"]`
 * means modern), so the `Client`'s probe and fallback drive everything.
 * @module
 */
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { JsonRpcId, JsonRpcMessage, JsonRpcNotification, JsonRpcRequest } from '../../jsonrpc/types.js';
import { isErrorResponse, isRequest, isResponse } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import { modernHeaders } from './client-headers.js';
import { parseMessages, ToolHeaderCache } from './client-inbound.js';
import { LegacySseConnection } from './client-legacy-sse.js';
import type {
  FetchLike,
  ReconnectionOptions,
  StreamableHttpClientTransportOptions,
} from './client-options.js';
import { DEFAULT_RECONNECTION } from './client-options.js';
import { LegacySession } from './client-session.js';
import { discardBody, mediaType, readBodyText } from './client-sse.js';
import type { ResponseWaiter, StreamState } from './client-streams.js';
import { CANCELLED, CLOSED, ClientStreams } from './client-streams.js';

export { DEFAULT_RECONNECTION } from './client-options.js';
export type {
  FetchLike,
  HttpAuthProvider,
  ReconnectionOptions,
  StreamableHttpClientTransportOptions,
} from './client-options.js';

/** Statuses after which the HTTP+SSE fallback is tried (2025-11-25 basic/transports "Backwards Compatibility"). */
const FALLBACK_STATUSES = new Set([400, 404, 405]);
/** Error codes only a modern server sends: their presence rules out a fallback. */
const MODERN_ERROR_CODES = new Set([-32020, -32021, -32022]);

/**
 * An MCP client connection over Streamable HTTP (both eras) with the HTTP+SSE fallback.
 *
 * `send()` resolves once the server accepted the POST (for a JSON answer, once it was read and
 * delivered); an SSE answer is then read in the background. `send()` rejects with McpError
 * `HTTP_ERROR` (`status` set) for a refusal without a JSON-RPC body, `CONNECTION_CLOSED` for a
 * network error or after `close()`, `MESSAGE_TOO_LARGE` beyond `maxMessageBytes`, and
 * `PROTOCOL_ERROR` for an answer that is not JSON-RPC. A JSON-RPC error body is delivered through
 * `onmessage` whatever the status (an id-less one is given the request's id), so the `Client` can
 * read modern errors during its era probe.
 *
 * When a response stream ends before the response and cannot be resumed (always in the modern
 * era, where streams are not resumable; in the legacy era when no event id was seen or
 * `maxRetries` is exhausted), the request is answered locally with a JSON-RPC error response
 * `-32603` "Internal error: ..." so the caller does not wait for its timeout.
 *
 * `Mcp-Param-*` headers need the tool's `inputSchema`, learned from `tools/list` results that pass
 * through this transport: call `listTools()` before calling a tool whose parameters are mirrored
 * (a server answers a missing header with 400 / -32020 HeaderMismatch).
 *
 * HTTP/2 is whatever the fetch in use negotiates: browsers use it over TLS on their own; Node 20's
 * built-in fetch (undici) speaks HTTP/1.1 unless given a dispatcher with `allowH2` (through
 * `requestInit` or a custom `fetch`). Nothing here depends on the HTTP version.
 *
 * @example
 * ```ts
 * const client = new Client({ name: 'app', version: '1.0.0' });
 * await client.connect(new StreamableHttpClientTransport({ url: 'https://example.com/mcp' }));
 * ```
 */
export class StreamableHttpClientTransport implements Transport {
  readonly binding = 'http';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly url: URL;
  readonly options: StreamableHttpClientTransportOptions;
  readonly #fetch: FetchLike;
  readonly #maxMessageBytes: number;
  readonly #streams: ClientStreams;
  readonly #session: LegacySession;
  #closed = false;
  #closeFired = false;
  readonly #toolHeaders = new ToolHeaderCache();
  #modernSeen = false;
  #sse: LegacySseConnection | undefined;

  constructor(options: StreamableHttpClientTransportOptions) {
    this.options = options;
    this.url = new URL(options.url);
    const base: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    this.#fetch = options.authProvider ? options.authProvider.wrapFetch(base) : base;
    const reconnection: ReconnectionOptions = { ...DEFAULT_RECONNECTION, ...options.reconnection };
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#streams = new ClientStreams({
      reconnection,
      maxMessageBytes: this.#maxMessageBytes,
      get: (lastEventId, signal) => this.#session.get(lastEventId, signal),
      ondata: (data, state) => this.#receive(data, state),
      deliver: (response, state) => this.#deliver(response, state),
      onerror: (error) => this.onerror?.(error),
    });
    this.#session = new LegacySession({
      url: this.url,
      fetch: this.#fetch,
      headers: () => this.#headers(),
      options,
      post: (message, waiter) => this.#post(message, false, waiter),
      forget: (id) => this.#streams.forget(id),
      endGetStream: () => this.#streams.endGetStream(),
      onerror: (error) => this.onerror?.(error),
    });
  }

  /** The legacy session id the server issued, if any. */
  get sessionId(): string | undefined {
    return this.#session.id;
  }

  /** The legacy protocol version read from the `initialize` result, once it passed through. */
  get protocolVersion(): string | undefined {
    return this.#session.protocolVersion;
  }

  /** `streamable-http`, or `http+sse` after falling back to the 2024-11-05 transport. */
  get mode(): 'streamable-http' | 'http+sse' {
    return this.#sse ? 'http+sse' : 'streamable-http';
  }

  /** Nothing to open: every message is its own HTTP request. */
  async start(): Promise<void> {}

  /**
   * POSTs one message (or a 2025-03-26 batch). A modern `notifications/cancelled` is not posted: it
   * aborts the request's HTTP exchange instead (2026-07-28 streamable-http "Cancellation").
   * @throws McpError `HTTP_ERROR`, `CONNECTION_CLOSED`, `MESSAGE_TOO_LARGE`, `PROTOCOL_ERROR` (see the class)
   */
  async send(message: JsonRpcMessage | JsonRpcMessage[], _options?: SendOptions): Promise<void> {
    if (this.#closed) throw new McpError('CONNECTION_CLOSED', 'the HTTP transport is closed');
    if (!Array.isArray(message) && 'method' in message && !('id' in message)) {
      if (message.method === 'notifications/cancelled' && this.#cancel(message)) return;
    }
    if (this.#sse) return this.#postSse(message);
    return this.#post(message, true);
  }

  /**
   * Ends every stream, DELETEs the legacy session (bounded by `closeTimeoutMs`; 405 is fine) and
   * fires `onclose`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.abortAll(CLOSED);
    this.#sse?.close();
    const session = this.#session.id;
    if (session !== undefined && !this.#sse) await this.#session.delete(session);
    this.#fireClose();
  }

  /** Fires `onclose` once, whether `close()` or the end of an HTTP+SSE connection comes first. */
  #fireClose(): void {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.onclose?.();
  }

  /** Aborts the exchange of a cancelled request; true when the notification must not be POSTed. */
  #cancel(notification: JsonRpcNotification): boolean {
    const id = (notification.params as { requestId?: JsonRpcId } | undefined)?.requestId;
    const entry = id === undefined ? undefined : this.#streams.cancel(id);
    if (entry) return entry.modern;
    return this.#modernSeen && this.#session.initRequest === undefined;
  }

  // ---- POST --------------------------------------------------------------------------------

  /** The headers every request starts from: `requestInit.headers`, then the `headers` option over them. */
  async #headers(): Promise<Headers> {
    const headers = new Headers(this.options.requestInit?.headers);
    const extra =
      typeof this.options.headers === 'function' ? await this.options.headers() : this.options.headers;
    if (extra) new Headers(extra).forEach((value, key) => headers.set(key, value));
    return headers;
  }

  /** Turns a failed fetch or body read into the right outcome: silence after a cancellation, else an McpError. */
  /**
   * POSTs one message (or batch) as JSON on `state`'s abort signal. Resolves to the response, or to
   * `undefined` after a network failure has been reported through `#failed`.
   */
  async #postTo(
    target: string | URL,
    headers: Headers,
    message: JsonRpcMessage | JsonRpcMessage[],
    state: StreamState,
  ): Promise<Response | undefined> {
    try {
      return await this.#fetch(target, {
        ...this.options.requestInit,
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: state.controller.signal,
      });
    } catch (error) {
      this.#failed(state, error, `POST ${target}`);
      return undefined;
    }
  }

  #failed(state: StreamState, error: unknown, what: string): void {
    this.#streams.drop(state);
    const reason = state.controller.signal.aborted ? state.controller.signal.reason : undefined;
    if (reason === CANCELLED) return;
    if (reason === CLOSED || this.#closed)
      throw new McpError('CONNECTION_CLOSED', 'the HTTP transport is closed');
    if (error instanceof McpError) throw error;
    throw new McpError('CONNECTION_CLOSED', `${what} failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }

  /**
   * POSTs to the MCP endpoint and handles the answer (JSON, an SSE stream run in the background, 202,
   * or a refusal); re-`initialize`s once and retries when a legacy session expired (`mayRenewSession`).
   */
  async #post(
    message: JsonRpcMessage | JsonRpcMessage[],
    mayRenewSession: boolean,
    waiter?: ResponseWaiter,
  ): Promise<void> {
    const single = Array.isArray(message) ? undefined : message;
    const requests = (Array.isArray(message) ? message : [message]).filter(isRequest);
    const modern = single ? modernHeaders(single, (tool) => this.#toolHeaders.get(tool)) : undefined;
    const isInit = single !== undefined && isRequest(single) && single.method === 'initialize';
    if (isInit && !waiter) this.#session.initRequest = single as JsonRpcRequest;
    const label = single && 'method' in single ? single.method : 'batch';
    const state = this.#streams.open('post', modern !== undefined, label);
    this.#streams.track(state, requests, waiter);

    const headers = await this.#headers();
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json, text/event-stream');
    const session = modern || isInit ? undefined : this.#session.id;
    if (modern) for (const [name, value] of Object.entries(modern)) headers.set(name, value);
    else if (!isInit) {
      if (this.#session.protocolVersion) headers.set('MCP-Protocol-Version', this.#session.protocolVersion);
      if (session !== undefined) headers.set('Mcp-Session-Id', session);
    }
    const response = await this.#postTo(this.url, headers, message, state);
    if (!response) return;
    const status = response.status;
    if (isInit && response.ok) {
      const issued = response.headers.get('mcp-session-id');
      if (issued) this.#session.id = issued;
    }
    // 2025-11-25 basic/transports "Session Management": 404 on a session id = the session is gone.
    if (status === 404 && session !== undefined && mayRenewSession && this.#session.initRequest) {
      discardBody(response);
      this.#streams.drop(state);
      await this.#session.renew(session);
      return this.#post(message, false, waiter);
    }
    if (!response.ok) return this.#refused(response, state, message, isInit);
    if (modern) this.#modernSeen = true;
    if (requests.length === 0 || status === 202 || status === 204) {
      discardBody(response);
      this.#streams.release(state); // a request answered 202 gets its response on another stream
      if (single && 'method' in single && single.method === 'notifications/initialized' && !modern)
        this.#openGetStream();
      return;
    }
    const type = mediaType(response.headers.get('content-type'));
    if (type === 'text/event-stream') {
      void this.#streams.run(state, response);
      return;
    }
    if (type !== 'application/json') {
      discardBody(response);
      this.#streams.drop(state);
      throw new McpError('PROTOCOL_ERROR', `POST answered ${status} with Content-Type "${type}"`);
    }
    let text: string;
    try {
      text = await readBodyText(response, this.#maxMessageBytes);
    } catch (error) {
      return this.#failed(state, error, `reading the answer to ${label}`);
    }
    this.#streams.release(state);
    const messages = this.#parse(text);
    if (!messages) {
      this.#streams.drop(state);
      throw new McpError('PROTOCOL_ERROR', `the answer to ${label} is not JSON-RPC: ${text.slice(0, 200)}`);
    }
    this.#deliverAll(messages, state, requests.length === 1 ? requests[0]!.id : undefined);
    this.#streams.lose(state, `the JSON answer to ${label} did not contain its response`);
  }

  /** A non-2xx answer: deliver a JSON-RPC error body, try the HTTP+SSE fallback, or reject. */
  async #refused(
    response: Response,
    state: StreamState,
    message: JsonRpcMessage | JsonRpcMessage[],
    isInit: boolean,
  ): Promise<void> {
    const status = response.status;
    let body: JsonRpcMessage[] | undefined;
    try {
      body = this.#parse(await readBodyText(response, this.#maxMessageBytes));
    } catch {
      body = undefined; // an unreadable error body is the same as none: the status speaks
    }
    if (body && !body.some(isErrorResponse)) body = undefined;
    const requests = (Array.isArray(message) ? message : [message]).filter(isRequest);
    const fixId = requests.length === 1 ? requests[0]!.id : undefined;
    const modernError = body?.some(
      (m) =>
        isErrorResponse(m) &&
        (MODERN_ERROR_CODES.has(m.error.code) || (status === 404 && m.error.code === -32601)),
    );
    if (isInit && FALLBACK_STATUSES.has(status) && !modernError && this.options.sseFallback !== false) {
      this.#streams.release(state);
      try {
        await this.#startSse();
      } catch (error) {
        this.#streams.drop(state);
        if (body) return this.#deliverAll(body, undefined, fixId);
        throw new McpError(
          'HTTP_ERROR',
          `initialize answered ${status} and the HTTP+SSE fallback failed: ${(error as Error).message}`,
          { status, cause: error },
        );
      }
      this.#streams.drop(state);
      return this.#postSse(message);
    }
    this.#streams.release(state);
    if (body) {
      this.#deliverAll(body, state, fixId);
      this.#streams.drop(state);
      return;
    }
    this.#streams.drop(state);
    throw new McpError('HTTP_ERROR', `POST ${this.url} answered ${status} ${response.statusText}`.trimEnd(), {
      status,
    });
  }

  /** Legacy: opens the standalone GET stream after `notifications/initialized`, unless disabled or moot. */
  #openGetStream(): void {
    if (this.options.openGetStream === false || this.#closed || this.#sse) return;
    this.#streams.openGetStream();
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** Parses a body or event into messages; `undefined` when it is not JSON-RPC at all. */
  #parse(text: string): JsonRpcMessage[] | undefined {
    return parseMessages(text, (error) => this.onerror?.(error));
  }

  /** The data of one SSE `message` event (of `state`, or of the HTTP+SSE GET stream): delivered, or reported. */
  #receive(data: string, state: StreamState | undefined): void {
    const messages = this.#parse(data);
    if (!messages) {
      this.onerror?.(
        new McpError('PROTOCOL_ERROR', `ignored an SSE event that is not JSON-RPC: ${data.slice(0, 200)}`),
      );
      return;
    }
    this.#deliverAll(messages, state);
  }

  /** Delivers each message; an id-less error response is given `fixId` (the id of the one request sent). */
  #deliverAll(messages: JsonRpcMessage[], state: StreamState | undefined, fixId?: JsonRpcId): void {
    for (let m of messages) {
      if (fixId !== undefined && isResponse(m) && m.id === null) m = { ...m, id: fixId };
      this.#deliver(m, state);
    }
  }

  /** Settles the request a response answers (learning the legacy version and tool headers), then hands it on. */
  #deliver(message: JsonRpcMessage, state?: StreamState): void {
    let m = message;
    if (isResponse(m) && m.id !== null) {
      const entry = this.#streams.settle(m.id, state);
      if (entry) {
        if ('result' in m) {
          const result = m.result;
          if (entry.method === 'initialize' && typeof result.protocolVersion === 'string')
            this.#session.protocolVersion = result.protocolVersion;
          if (entry.method === 'tools/list' && entry.modern)
            m = this.#toolHeaders.filter(m, (error) => this.onerror?.(error));
        }
        if (entry.waiter) {
          entry.waiter(m);
          return;
        }
      }
    }
    const context: MessageContext = { binding: 'http' };
    if (this.#session.id !== undefined) context.sessionId = this.#session.id;
    this.onmessage?.(m, context);
  }

  // ---- HTTP+SSE (2024-11-05) -----------------------------------------------------------------

  /** Switches to the 2024-11-05 HTTP+SSE transport: opens its GET stream and waits for the endpoint. */
  async #startSse(): Promise<void> {
    this.#sse = await LegacySseConnection.open({
      url: this.url,
      fetch: this.#fetch,
      headers: () => this.#headers(),
      requestInit: this.options.requestInit,
      maxMessageBytes: this.#maxMessageBytes,
      endpointTimeoutMs: this.options.endpointTimeoutMs ?? 10_000,
      ondata: (data) => this.#receive(data, undefined),
      onerror: (error) => this.onerror?.(error),
      onclose: () => {
        // 2024-11-05 has no resumption: the end of the GET stream is the end of the connection.
        this.#closed = true;
        this.#streams.abortAll(CLOSED);
        this.#fireClose();
      },
    });
  }

  /** POSTs to the announced endpoint; every answer arrives on the GET stream. */
  async #postSse(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    const sse = this.#sse!;
    const requests = (Array.isArray(message) ? message : [message]).filter(isRequest);
    const state = this.#streams.open('post', false, 'HTTP+SSE POST');
    this.#streams.track(state, requests);
    const headers = await this.#headers();
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json, text/event-stream');
    if (this.#session.protocolVersion) headers.set('MCP-Protocol-Version', this.#session.protocolVersion);
    const response = await this.#postTo(sse.endpoint, headers, message, state);
    if (!response) return;
    this.#streams.release(state);
    if (response.ok) {
      discardBody(response);
      return; // the answers come on the GET stream; the requests stay tracked until then
    }
    let body: JsonRpcMessage[] | undefined;
    try {
      body = this.#parse(await readBodyText(response, this.#maxMessageBytes));
    } catch {
      body = undefined; // the status speaks
    }
    if (body?.some(isErrorResponse)) {
      this.#deliverAll(body, state, requests.length === 1 ? requests[0]!.id : undefined);
      this.#streams.drop(state);
      return;
    }
    this.#streams.drop(state);
    throw new McpError('HTTP_ERROR', `POST ${sse.endpoint} answered ${response.status}`, {
      status: response.status,
    });
  }
}
