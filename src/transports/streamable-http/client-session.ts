/**
 * The legacy (2025-03-26 … 2025-11-25) session of the Streamable HTTP client: the `Mcp-Session-Id`
 * the server issued and the `MCP-Protocol-Version` negotiated by `initialize`, a transparent
 * re-`initialize` when the server answers 404 because it forgot the session, the session's GET
 * requests, and the DELETE on close (2025-11-25 basic/transports "Session Management").
 * Internal to `StreamableHttpClientTransport`.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage, JsonRpcRequest, JsonRpcResponse } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { FetchLike, StreamableHttpClientTransportOptions } from './client-options.js';
import { discardBody } from './client-sse.js';
import type { ResponseWaiter } from './client-streams.js';

/** What {@link LegacySession} needs from the transport that owns it. */
export interface LegacySessionOptions {
  /** The MCP endpoint. */
  url: URL;
  /** The fetch to use. */
  fetch: FetchLike;
  /** Builds the headers every request starts from (the user's headers and `requestInit.headers`). */
  headers: () => Promise<Headers>;
  /** The transport's options, read when used (`requestInit`, `reinitializeTimeoutMs`, `closeTimeoutMs`). */
  options: StreamableHttpClientTransportOptions;
  /** POSTs an internal message without renewing the session again; `waiter` receives a request's response. */
  post: (message: JsonRpcMessage, waiter?: ResponseWaiter) => Promise<void>;
  /** Forgets an internal request whose response is no longer awaited. */
  forget: (id: JsonRpcId) => void;
  /** Ends the standalone GET stream of the expired session. */
  endGetStream: () => void;
  /** A non-fatal problem. */
  onerror: (error: Error) => void;
}

/** The legacy session state of one transport and the requests that manage it. */
export class LegacySession {
  /** The session id the server issued in answer to `initialize`, if any. */
  id: string | undefined;
  /** The legacy protocol version read from the `initialize` result, once it passed through. */
  protocolVersion: string | undefined;
  /** The caller's `initialize` request, replayed when the session expires. */
  initRequest: JsonRpcRequest | undefined;
  readonly #options: LegacySessionOptions;
  #renewing: Promise<void> | undefined;
  #internalIds = 0;

  constructor(options: LegacySessionOptions) {
    this.#options = options;
  }

  /** Re-`initialize`s after the server forgot session `expired`; concurrent callers share one attempt. */
  async renew(expired: string): Promise<void> {
    if (this.#renewing) return this.#renewing;
    if (this.id !== expired) return; // another message already renewed it
    this.#renewing = this.#reinitialize().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  /**
   * Replays the caller's `initialize` under an internal id (bounded by `reinitializeTimeoutMs`),
   * then sends `notifications/initialized`; the new session id is picked up from the answer.
   * @throws McpError `REQUEST_TIMEOUT`, `PROTOCOL_ERROR` for an error response, or what the POST throws
   */
  async #reinitialize(): Promise<void> {
    const { options, post, forget } = this.#options;
    const init = this.initRequest!;
    this.#options.endGetStream();
    this.id = undefined;
    const id = `anywire-reinitialize-${++this.#internalIds}`;
    const ms = options.reinitializeTimeoutMs ?? 30_000;
    const response = await new Promise<JsonRpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        forget(id);
        reject(new McpError('REQUEST_TIMEOUT', `re-initializing the expired session took over ${ms} ms`));
      }, ms);
      post({ ...init, id }, (r) => {
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
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** GETs the endpoint within the session as an SSE stream, resuming after `lastEventId` when given. */
  async get(lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    const headers = await this.#options.headers();
    headers.set('Accept', 'text/event-stream');
    if (this.id !== undefined) headers.set('Mcp-Session-Id', this.id);
    if (this.protocolVersion) headers.set('MCP-Protocol-Version', this.protocolVersion);
    if (lastEventId !== undefined) headers.set('Last-Event-ID', lastEventId);
    return this.#options.fetch(this.#options.url, {
      ...this.#options.options.requestInit,
      method: 'GET',
      headers,
      signal,
    });
  }

  /** DELETEs session `session` (bounded by `closeTimeoutMs`); failures are reported, never thrown. */
  async delete(session: string): Promise<void> {
    const { options, onerror } = this.#options;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.closeTimeoutMs ?? 2000);
    try {
      const headers = await this.#options.headers();
      headers.set('Mcp-Session-Id', session);
      if (this.protocolVersion) headers.set('MCP-Protocol-Version', this.protocolVersion);
      const r = await this.#options.fetch(this.#options.url, {
        ...options.requestInit,
        method: 'DELETE',
        headers,
        signal: controller.signal,
      });
      discardBody(r);
      // 405: the server does not let clients end sessions (allowed); 404: already gone.
      if (!r.ok && r.status !== 405 && r.status !== 404)
        onerror(
          new McpError('HTTP_ERROR', `DELETE of the session answered ${r.status}`, { status: r.status }),
        );
    } catch (error) {
      onerror(
        new McpError('CONNECTION_CLOSED', `DELETE of the session failed: ${(error as Error).message}`, {
          cause: error,
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
