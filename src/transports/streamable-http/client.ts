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
import { validateValue } from '../../jsonrpc/parse.js';
import type {
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '../../jsonrpc/types.js';
import { isErrorResponse, isRequest, isResponse } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import type { ParamHeaderDeclaration } from './client-headers.js';
import { modernHeaders, scanToolHeaders } from './client-headers.js';
import { LegacySseConnection } from './client-legacy-sse.js';
import { discardBody, mediaType, readBodyText, readSseStream } from './client-sse.js';

/** The subset of `fetch` the transport uses; pass your own for proxies, auth, tests or HTTP/2 agents. */
export type FetchLike = (input: string | URL, init: RequestInit) => Promise<Response>;

/** How broken legacy SSE streams are resumed (GET + `Last-Event-ID`). */
export interface ReconnectionOptions {
  /** Delay before the first reconnection in ms when the server sent no `retry:`. Default 1000. */
  initialDelayMs: number;
  /** Cap on the grown delay in ms (a larger server `retry:` is still honoured). Default 30 000. */
  maxDelayMs: number;
  /** Each failed attempt multiplies the delay by this. Default 1.5. */
  growFactor: number;
  /** Reconnection attempts in a row without receiving an event before giving up; 0 disables resumption. Default 2. */
  maxRetries: number;
}

/** Default {@link ReconnectionOptions}. */
export const DEFAULT_RECONNECTION: Readonly<ReconnectionOptions> = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  growFactor: 1.5,
  maxRetries: 2,
});

/** Options of {@link StreamableHttpClientTransport}. */
export interface StreamableHttpClientTransportOptions {
  /** The MCP endpoint (for an HTTP+SSE server: its SSE URL). */
  url: string | URL;
  /** Custom fetch. Default: the global `fetch`. */
  fetch?: FetchLike;
  /**
   * Headers added to every HTTP request (e.g. `Authorization`), or a function called before each
   * request that returns them (for refreshed tokens). The protocol headers win over these.
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** Extra fetch options for every request (`credentials`, `mode`, `dispatcher`, ...); `method`, `body` and `signal` are the transport's. */
  requestInit?: RequestInit;
  /** Resumption policy for legacy SSE streams; missing fields take {@link DEFAULT_RECONNECTION}. */
  reconnection?: Partial<ReconnectionOptions>;
  /** Largest accepted JSON body or SSE event in bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Legacy: open the GET stream for server-initiated messages after `initialize` (405 is fine). Default true. */
  openGetStream?: boolean;
  /** Fall back to the 2024-11-05 HTTP+SSE transport when `initialize` is refused with 400/404/405. Default true. */
  sseFallback?: boolean;
  /** HTTP+SSE: time in ms to wait for the `endpoint` event. Default 10 000. */
  endpointTimeoutMs?: number;
  /** Legacy: time in ms to wait for a transparent re-`initialize` after the session expired. Default 30 000. */
  reinitializeTimeoutMs?: number;
  /** Legacy: time in ms `close()` waits for the session DELETE. Default 2000. */
  closeTimeoutMs?: number;
}

/** Abort reasons, to tell a caller's cancellation from a close. */
const CANCELLED = Object.freeze({ anywire: 'cancelled' });
const CLOSED = Object.freeze({ anywire: 'closed' });
/** How many SSE event ids per stream are remembered to drop replayed duplicates. */
const SEEN_EVENT_IDS = 1024;
/** Statuses after which the HTTP+SSE fallback is tried (2025-11-25 basic/transports "Backwards Compatibility"). */
const FALLBACK_STATUSES = new Set([400, 404, 405]);
/** Error codes only a modern server sends: their presence rules out a fallback. */
const MODERN_ERROR_CODES = new Set([-32020, -32021, -32022]);

/** One HTTP exchange and its SSE stream (a POST, its resumptions, or the standalone GET). */
interface StreamState {
  readonly kind: 'post' | 'get';
  readonly modern: boolean;
  readonly label: string;
  /** Aborts the current fetch and ends the stream for good (cancellation or close). */
  readonly controller: AbortController;
  /** Request ids whose responses this stream still owes. */
  readonly pending: Set<JsonRpcId>;
  readonly seen: Set<string>;
  lastEventId: string | undefined;
  retryMs: number | undefined;
  /** Reconnection attempts since the last event. */
  attempts: number;
}

interface Inflight {
  method: string;
  modern: boolean;
  stream: StreamState;
  /** Internal requests (the re-`initialize`) are answered here instead of `onmessage`. */
  waiter?: (response: JsonRpcResponse) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function lostResponse(id: JsonRpcId, reason: string): JsonRpcErrorResponse {
  return { jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error: ${reason}` } };
}

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
  readonly #reconnection: ReconnectionOptions;
  readonly #maxMessageBytes: number;
  #closed = false;
  #closeFired = false;
  #streams = new Set<StreamState>();
  #inflight = new Map<JsonRpcId, Inflight>();
  #toolHeaders = new Map<string, readonly ParamHeaderDeclaration[]>();
  #modernSeen = false;
  #sessionId: string | undefined;
  #legacyVersion: string | undefined;
  #initRequest: JsonRpcRequest | undefined;
  #renewing: Promise<void> | undefined;
  #internalIds = 0;
  #getStream: StreamState | undefined;
  #sse: LegacySseConnection | undefined;

  constructor(options: StreamableHttpClientTransportOptions) {
    this.options = options;
    this.url = new URL(options.url);
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#reconnection = { ...DEFAULT_RECONNECTION, ...options.reconnection };
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The legacy session id the server issued, if any. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The legacy protocol version read from the `initialize` result, once it passed through. */
  get protocolVersion(): string | undefined {
    return this.#legacyVersion;
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
    for (const s of this.#streams) s.controller.abort(CLOSED);
    this.#sse?.close();
    const session = this.#sessionId;
    if (session !== undefined && !this.#sse) await this.#deleteSession(session);
    this.#fireClose();
  }

  // ---- cancellation ------------------------------------------------------------------------

  /** Aborts the exchange of a cancelled request; true when the notification must not be POSTed. */
  #cancel(notification: JsonRpcNotification): boolean {
    const id = (notification.params as { requestId?: JsonRpcId } | undefined)?.requestId;
    const entry = id === undefined ? undefined : this.#inflight.get(id);
    if (entry && id !== undefined) {
      this.#inflight.delete(id);
      entry.stream.pending.delete(id);
      if (entry.stream.pending.size === 0) entry.stream.controller.abort(CANCELLED);
      return entry.modern;
    }
    return this.#modernSeen && this.#initRequest === undefined;
  }

  // ---- POST --------------------------------------------------------------------------------

  async #headers(): Promise<Headers> {
    const headers = new Headers(this.options.requestInit?.headers);
    const extra =
      typeof this.options.headers === 'function' ? await this.options.headers() : this.options.headers;
    if (extra) new Headers(extra).forEach((value, key) => headers.set(key, value));
    return headers;
  }

  #newStream(kind: 'post' | 'get', modern: boolean, label: string): StreamState {
    const state: StreamState = {
      kind,
      modern,
      label,
      controller: new AbortController(),
      pending: new Set(),
      seen: new Set(),
      lastEventId: undefined,
      retryMs: undefined,
      attempts: 0,
    };
    this.#streams.add(state);
    return state;
  }

  /** Forgets a stream and the requests it still owed (their callers learn of it otherwise). */
  #drop(state: StreamState): void {
    this.#streams.delete(state);
    for (const id of state.pending) if (this.#inflight.get(id)?.stream === state) this.#inflight.delete(id);
    state.pending.clear();
  }

  #track(state: StreamState, requests: JsonRpcRequest[], waiter?: Inflight['waiter']): void {
    for (const r of requests) {
      state.pending.add(r.id);
      const entry: Inflight = { method: r.method, modern: state.modern, stream: state };
      if (waiter) entry.waiter = waiter;
      this.#inflight.set(r.id, entry);
    }
  }

  /** Turns a failed fetch or body read into the right outcome: silence after a cancellation, else an McpError. */
  #failed(state: StreamState, error: unknown, what: string): void {
    this.#drop(state);
    const reason = state.controller.signal.aborted ? state.controller.signal.reason : undefined;
    if (reason === CANCELLED) return;
    if (reason === CLOSED || this.#closed)
      throw new McpError('CONNECTION_CLOSED', 'the HTTP transport is closed');
    if (error instanceof McpError) throw error;
    throw new McpError('CONNECTION_CLOSED', `${what} failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }

  async #post(
    message: JsonRpcMessage | JsonRpcMessage[],
    mayRenewSession: boolean,
    waiter?: Inflight['waiter'],
  ): Promise<void> {
    const single = Array.isArray(message) ? undefined : message;
    const requests = (Array.isArray(message) ? message : [message]).filter(isRequest);
    const modern = single ? modernHeaders(single, (tool) => this.#toolHeaders.get(tool)) : undefined;
    const isInit = single !== undefined && isRequest(single) && single.method === 'initialize';
    if (isInit && !waiter) this.#initRequest = single as JsonRpcRequest;
    const label = single && 'method' in single ? single.method : 'batch';
    const state = this.#newStream('post', modern !== undefined, label);
    this.#track(state, requests, waiter);

    const headers = await this.#headers();
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json, text/event-stream');
    const session = modern || isInit ? undefined : this.#sessionId;
    if (modern) for (const [name, value] of Object.entries(modern)) headers.set(name, value);
    else if (!isInit) {
      if (this.#legacyVersion) headers.set('MCP-Protocol-Version', this.#legacyVersion);
      if (session !== undefined) headers.set('Mcp-Session-Id', session);
    }
    let response: Response;
    try {
      response = await this.#fetch(this.url, {
        ...this.options.requestInit,
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: state.controller.signal,
      });
    } catch (error) {
      return this.#failed(state, error, `POST ${this.url}`);
    }
    const status = response.status;
    if (isInit && response.ok) {
      const issued = response.headers.get('mcp-session-id');
      if (issued) this.#sessionId = issued;
    }
    // 2025-11-25 basic/transports "Session Management": 404 on a session id = the session is gone.
    if (status === 404 && session !== undefined && mayRenewSession && this.#initRequest) {
      discardBody(response);
      this.#drop(state);
      await this.#renewSession(session);
      return this.#post(message, false, waiter);
    }
    if (!response.ok) return this.#refused(response, state, message, isInit);
    if (modern) this.#modernSeen = true;
    if (requests.length === 0 || status === 202 || status === 204) {
      discardBody(response);
      this.#streams.delete(state); // a request answered 202 gets its response on another stream
      if (single && 'method' in single && single.method === 'notifications/initialized' && !modern)
        this.#openGetStream();
      return;
    }
    const type = mediaType(response.headers.get('content-type'));
    if (type === 'text/event-stream') {
      void this.#run(state, response);
      return;
    }
    if (type !== 'application/json') {
      discardBody(response);
      this.#drop(state);
      throw new McpError('PROTOCOL_ERROR', `POST answered ${status} with Content-Type "${type}"`);
    }
    let text: string;
    try {
      text = await readBodyText(response, this.#maxMessageBytes);
    } catch (error) {
      return this.#failed(state, error, `reading the answer to ${label}`);
    }
    this.#streams.delete(state);
    const messages = this.#parse(text);
    if (!messages) {
      this.#drop(state);
      throw new McpError('PROTOCOL_ERROR', `the answer to ${label} is not JSON-RPC: ${text.slice(0, 200)}`);
    }
    this.#deliverAll(messages, state, requests.length === 1 ? requests[0]!.id : undefined);
    this.#lose(state, `the JSON answer to ${label} did not contain its response`);
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
      this.#streams.delete(state);
      try {
        await this.#startSse();
      } catch (error) {
        this.#drop(state);
        if (body) return this.#deliverAll(body, undefined, fixId);
        throw new McpError(
          'HTTP_ERROR',
          `initialize answered ${status} and the HTTP+SSE fallback failed: ${(error as Error).message}`,
          { status, cause: error },
        );
      }
      this.#drop(state);
      return this.#postSse(message);
    }
    this.#streams.delete(state);
    if (body) {
      this.#deliverAll(body, state, fixId);
      this.#drop(state);
      return;
    }
    this.#drop(state);
    throw new McpError('HTTP_ERROR', `POST ${this.url} answered ${status} ${response.statusText}`.trimEnd(), {
      status,
    });
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** Parses a body or event into messages; `undefined` when it is not JSON-RPC at all. */
  #parse(text: string): JsonRpcMessage[] | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = validateValue(value);
    if (!parsed.ok) return undefined;
    if ('message' in parsed) return [parsed.message];
    for (const e of parsed.errors)
      this.onerror?.(
        new McpError('PROTOCOL_ERROR', `ignored an invalid message in a batch: ${e.error.message}`),
      );
    return parsed.batch;
  }

  #deliverAll(messages: JsonRpcMessage[], state: StreamState | undefined, fixId?: JsonRpcId): void {
    for (let m of messages) {
      if (fixId !== undefined && isResponse(m) && m.id === null) m = { ...m, id: fixId };
      this.#deliver(m, state);
    }
  }

  #deliver(message: JsonRpcMessage, state?: StreamState): void {
    let m = message;
    if (isResponse(m) && m.id !== null) {
      state?.pending.delete(m.id);
      const entry = this.#inflight.get(m.id);
      if (entry) {
        this.#inflight.delete(m.id);
        entry.stream.pending.delete(m.id);
        if ('result' in m) {
          const result = m.result;
          if (entry.method === 'initialize' && typeof result.protocolVersion === 'string')
            this.#legacyVersion = result.protocolVersion;
          if (entry.method === 'tools/list' && entry.modern) m = this.#filterTools(m);
        }
        if (entry.waiter) {
          entry.waiter(m);
          return;
        }
      }
    }
    const context: MessageContext = { binding: 'http' };
    if (this.#sessionId !== undefined) context.sessionId = this.#sessionId;
    this.onmessage?.(m, context);
  }

  /**
   * Drops tools whose `x-mcp-header` annotations are invalid and remembers the declarations of the
   * others (2026-07-28 streamable-http "Schema Extension": an HTTP client MUST exclude them).
   */
  #filterTools(response: JsonRpcResponse & { result: Record<string, unknown> }): JsonRpcResponse {
    const tools = response.result.tools;
    if (!Array.isArray(tools)) return response;
    const kept: unknown[] = [];
    for (const tool of tools) {
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') {
        kept.push(tool);
        continue;
      }
      const scan = scanToolHeaders((tool as { inputSchema?: unknown }).inputSchema);
      if (scan.ok) {
        if (scan.declarations.length > 0) this.#toolHeaders.set(name, scan.declarations);
        else this.#toolHeaders.delete(name);
        kept.push(tool);
      } else {
        this.#toolHeaders.delete(name);
        this.onerror?.(
          new McpError('PROTOCOL_ERROR', `dropped tool "${name}" from tools/list: ${scan.reason}`),
        );
      }
    }
    return kept.length === tools.length
      ? response
      : { ...response, result: { ...response.result, tools: kept } };
  }

  /** Answers every request a dead stream still owed with a local -32603 error response. */
  #lose(state: StreamState, reason: string): void {
    for (const id of [...state.pending]) {
      if (this.#inflight.get(id)?.stream === state) this.#deliver(lostResponse(id, reason), state);
    }
    state.pending.clear();
  }

  // ---- SSE streams -------------------------------------------------------------------------

  #onevent(
    state: StreamState,
    event: { id?: string | undefined; event?: string | undefined; data: string },
  ): void {
    if (event.id) {
      if (state.seen.has(event.id)) return; // replayed twice by the server: deliver once
      state.seen.add(event.id);
      if (state.seen.size > SEEN_EVENT_IDS) state.seen.delete(state.seen.values().next().value as string);
      state.lastEventId = event.id;
    }
    state.attempts = 0;
    if (!event.data) return; // priming event (2025-11-25): an id and empty data
    if (event.event !== undefined && event.event !== 'message') return;
    const messages = this.#parse(event.data);
    if (!messages) {
      this.onerror?.(
        new McpError(
          'PROTOCOL_ERROR',
          `ignored an SSE event that is not JSON-RPC: ${event.data.slice(0, 200)}`,
        ),
      );
      return;
    }
    this.#deliverAll(messages, state);
  }

  async #consume(state: StreamState, response: Response): Promise<unknown> {
    if (!response.body) return undefined;
    try {
      await readSseStream(
        response.body,
        {
          onevent: (event) => this.#onevent(state, event),
          onretry: (ms) => {
            state.retryMs = ms;
          },
        },
        this.#maxMessageBytes,
      );
      return undefined;
    } catch (error) {
      return error;
    }
  }

  #delay(state: StreamState): number {
    const r = this.#reconnection;
    const base = state.retryMs ?? r.initialDelayMs;
    return Math.min(base * r.growFactor ** state.attempts, Math.max(r.maxDelayMs, base));
  }

  async #get(state: StreamState): Promise<Response> {
    const headers = await this.#headers();
    headers.set('Accept', 'text/event-stream');
    if (this.#sessionId !== undefined) headers.set('Mcp-Session-Id', this.#sessionId);
    if (this.#legacyVersion) headers.set('MCP-Protocol-Version', this.#legacyVersion);
    if (state.lastEventId !== undefined) headers.set('Last-Event-ID', state.lastEventId);
    return this.#fetch(this.url, {
      ...this.options.requestInit,
      method: 'GET',
      headers,
      signal: state.controller.signal,
    });
  }

  /**
   * Reads a stream to its end and keeps it alive: a legacy stream that breaks before its response
   * (or the standalone GET stream, whenever it ends) is reopened with GET + `Last-Event-ID` after the
   * server's `retry:` delay, growing per {@link ReconnectionOptions} (2025-11-25 basic/transports
   * "Resumability and Redelivery"). A stream that cannot be resumed loses its requests (see {@link #lose}).
   */
  async #run(state: StreamState, first?: Response): Promise<void> {
    let response = first;
    let immediate = first === undefined;
    try {
      for (;;) {
        if (response) {
          const error = await this.#consume(state, response);
          response = undefined;
          if (state.controller.signal.aborted) return;
          if (state.kind === 'post' && state.pending.size === 0) return;
          if (error instanceof McpError && error.code === 'MESSAGE_TOO_LARGE') {
            this.onerror?.(error);
            this.#lose(state, error.message);
            return;
          }
          if (state.modern) {
            this.#lose(
              state,
              `the response stream of ${state.label} ended before the response (2026-07-28 streams are not resumable)`,
            );
            return;
          }
          if (state.kind === 'post' && state.lastEventId === undefined) {
            this.#lose(
              state,
              `the response stream of ${state.label} ended before the response, without an event id to resume from`,
            );
            return;
          }
        }
        if (state.attempts >= this.#reconnection.maxRetries) {
          const why = `gave up resuming the ${state.label} stream after ${state.attempts} attempts`;
          if (state.kind === 'get') this.onerror?.(new McpError('CONNECTION_CLOSED', why));
          this.#lose(state, why);
          return;
        }
        await sleep(immediate ? 0 : this.#delay(state), state.controller.signal);
        immediate = false;
        if (state.controller.signal.aborted) return;
        state.attempts++;
        let r: Response;
        try {
          r = await this.#get(state);
        } catch {
          if (state.controller.signal.aborted) return;
          continue; // a network error: try again after the delay
        }
        if (r.ok && mediaType(r.headers.get('content-type')) === 'text/event-stream') {
          response = r;
          continue;
        }
        discardBody(r);
        if (r.status >= 500 || r.status === 429) continue;
        // No GET stream offered (405 on the first GET) is normal; anything else is worth a report.
        const quiet = state.kind === 'get' && r.status === 405 && state.lastEventId === undefined;
        if (!quiet)
          this.onerror?.(
            new McpError('HTTP_ERROR', `GET to resume the ${state.label} stream answered ${r.status}`, {
              status: r.status,
            }),
          );
        this.#lose(state, `resuming the ${state.label} stream was refused with ${r.status}`);
        return;
      }
    } finally {
      this.#drop(state);
      if (this.#getStream === state) this.#getStream = undefined;
    }
  }

  #openGetStream(): void {
    if (this.options.openGetStream === false || this.#getStream || this.#closed || this.#sse) return;
    const state = this.#newStream('get', false, 'GET');
    this.#getStream = state;
    void this.#run(state);
  }

  // ---- legacy sessions ---------------------------------------------------------------------

  /** Re-`initialize`s after the server forgot session `expired`; concurrent callers share one attempt. */
  async #renewSession(expired: string): Promise<void> {
    if (this.#renewing) return this.#renewing;
    if (this.#sessionId !== expired) return; // another message already renewed it
    this.#renewing = this.#reinitialize().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #reinitialize(): Promise<void> {
    const init = this.#initRequest!;
    this.#getStream?.controller.abort(CANCELLED);
    this.#getStream = undefined;
    this.#sessionId = undefined;
    const id = `anywire-reinitialize-${++this.#internalIds}`;
    const ms = this.options.reinitializeTimeoutMs ?? 30_000;
    const response = await new Promise<JsonRpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#inflight.delete(id);
        reject(new McpError('REQUEST_TIMEOUT', `re-initializing the expired session took over ${ms} ms`));
      }, ms);
      this.#post({ ...init, id }, false, (r) => {
        clearTimeout(timer);
        resolve(r);
      }).catch((error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    if ('error' in response)
      throw new McpError(
        'PROTOCOL_ERROR',
        `re-initializing the expired session failed: ${response.error.message}`,
      );
    await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' }, false);
  }

  async #deleteSession(session: string): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.closeTimeoutMs ?? 2000);
    try {
      const headers = await this.#headers();
      headers.set('Mcp-Session-Id', session);
      if (this.#legacyVersion) headers.set('MCP-Protocol-Version', this.#legacyVersion);
      const r = await this.#fetch(this.url, {
        ...this.options.requestInit,
        method: 'DELETE',
        headers,
        signal: controller.signal,
      });
      discardBody(r);
      // 405: the server does not let clients end sessions (allowed); 404: already gone.
      if (!r.ok && r.status !== 405 && r.status !== 404)
        this.onerror?.(
          new McpError('HTTP_ERROR', `DELETE of the session answered ${r.status}`, { status: r.status }),
        );
    } catch (error) {
      this.onerror?.(
        new McpError('CONNECTION_CLOSED', `DELETE of the session failed: ${(error as Error).message}`, {
          cause: error,
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  #fireClose(): void {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.onclose?.();
  }

  // ---- HTTP+SSE (2024-11-05) -----------------------------------------------------------------

  async #startSse(): Promise<void> {
    this.#sse = await LegacySseConnection.open({
      url: this.url,
      fetch: this.#fetch,
      headers: () => this.#headers(),
      requestInit: this.options.requestInit,
      maxMessageBytes: this.#maxMessageBytes,
      endpointTimeoutMs: this.options.endpointTimeoutMs ?? 10_000,
      ondata: (data) => {
        const messages = this.#parse(data);
        if (messages) this.#deliverAll(messages, undefined);
        else
          this.onerror?.(
            new McpError(
              'PROTOCOL_ERROR',
              `ignored an SSE event that is not JSON-RPC: ${data.slice(0, 200)}`,
            ),
          );
      },
      onerror: (error) => this.onerror?.(error),
      onclose: () => {
        // 2024-11-05 has no resumption: the end of the GET stream is the end of the connection.
        this.#closed = true;
        for (const s of this.#streams) s.controller.abort(CLOSED);
        this.#fireClose();
      },
    });
  }

  /** POSTs to the announced endpoint; every answer arrives on the GET stream. */
  async #postSse(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    const sse = this.#sse!;
    const requests = (Array.isArray(message) ? message : [message]).filter(isRequest);
    const state = this.#newStream('post', false, 'HTTP+SSE POST');
    this.#track(state, requests);
    const headers = await this.#headers();
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json, text/event-stream');
    if (this.#legacyVersion) headers.set('MCP-Protocol-Version', this.#legacyVersion);
    let response: Response;
    try {
      response = await this.#fetch(sse.endpoint, {
        ...this.options.requestInit,
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: state.controller.signal,
      });
    } catch (error) {
      return this.#failed(state, error, `POST ${sse.endpoint}`);
    }
    this.#streams.delete(state);
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
      this.#drop(state);
      return;
    }
    this.#drop(state);
    throw new McpError('HTTP_ERROR', `POST ${sse.endpoint} answered ${response.status}`, {
      status: response.status,
    });
  }
}
