/**
 * Where the answer to one POST goes: a JSON body when the result comes first, or an SSE stream as
 * soon as a notification or server-to-client request for it must go out first
 * (basic/transports "Sending Messages to the Server": the server MAY answer with either).
 * @module
 */
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { AUTH_ERROR_CODE } from '../../protocol/auth.js';
import type { HttpExchange } from './exchange.js';
import { SSE_HEADERS, SseStream } from './sse-stream.js';
import type { StreamScope } from './sse-stream.js';

/** Options of a {@link PostSink}. */
export interface PostSinkOptions {
  /** Extra response headers (CORS, `Mcp-Session-Id`). */
  headers: Record<string, string>;
  /** `auto` upgrades to SSE on the first notification; `sse` always streams; `json` never does. */
  mode: 'auto' | 'json' | 'sse';
  /** Event store and owning session, for resumable (legacy) streams. */
  scope?: StreamScope;
  /** SSE `retry:` in ms, sent with the priming event. */
  retryMs?: number;
  keepAliveMs: number;
  /**
   * Called when an SSE stream opens (to register it for resumption and count it), before its
   * priming event is queued.
   */
  onstream?: (stream: SseStream) => void;
  /** Called once when the final message was handed over (or the exchange was abandoned). */
  onsettle?: () => void;
}

let streamSeq = 0;
const streamPrefix = globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 12);

/** A fresh stream id, unique in this process (event ids get their unguessable part from the event store). */
export function newStreamId(): string {
  return `${streamPrefix}${(++streamSeq).toString(36)}`;
}

/** The status and challenge of an {@link AUTH_ERROR_CODE} error response, if `message` is one. */
function authRefusal(
  message: JsonRpcMessage | JsonRpcMessage[],
): { status: 401 | 403; wwwAuthenticate: string } | undefined {
  if (Array.isArray(message) || !('error' in message) || message.error.code !== AUTH_ERROR_CODE)
    return undefined;
  const data = message.error.data as { status?: unknown; wwwAuthenticate?: unknown } | undefined;
  if ((data?.status !== 401 && data?.status !== 403) || typeof data.wwwAuthenticate !== 'string')
    return undefined;
  return { status: data.status, wwwAuthenticate: data.wwwAuthenticate };
}

/** The response of one POST. */
export class PostSink {
  #ex: HttpExchange;
  #opts: PostSinkOptions;
  #stream: SseStream | undefined;
  #done = false;

  constructor(ex: HttpExchange, opts: PostSinkOptions) {
    this.#ex = ex;
    this.#opts = opts;
    if (opts.onsettle) ex.onabort(opts.onsettle);
    if (opts.mode === 'sse') this.#sse();
  }

  /** True once the final message was handed over. */
  get done(): boolean {
    return this.#done;
  }

  /** Sends a message that precedes the response (switches to SSE unless `json` mode drops it). */
  notify(message: JsonRpcMessage): void {
    if (this.#done) return;
    if (this.#opts.mode === 'json') return;
    this.#sse().push(message);
  }

  /** Sends the response (or batch of responses) and ends. */
  finish(message: JsonRpcMessage | JsonRpcMessage[], status = 200): void {
    if (this.#done) return;
    this.#done = true;
    this.#opts.onsettle?.();
    if (this.#stream) {
      this.#stream.push(message);
      this.#stream.end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.#opts.headers };
    // An AuthError thrown during dispatch (per-tool scopes), before any stream opened: 401/403
    // with its challenge, like a refusal at the door.
    const refusal = authRefusal(message);
    if (refusal) {
      status = refusal.status;
      headers['www-authenticate'] = refusal.wwwAuthenticate;
    }
    this.#ex.send(status, headers, JSON.stringify(message));
  }

  /** Ends the exchange without a response (its request was cancelled): the stream ends, or 204. */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.#opts.onsettle?.();
    if (this.#stream) this.#stream.end();
    else this.#ex.send(204, this.#opts.headers);
  }

  /** Closes the connection now, keeping the stream resumable (SEP-1699 polling). */
  disconnect(): void {
    if (this.#done || this.#opts.mode === 'json') return;
    this.#sse().disconnect();
  }

  #sse(): SseStream {
    if (!this.#stream) {
      const writer = this.#ex.stream(200, { ...SSE_HEADERS, ...this.#opts.headers });
      this.#stream = new SseStream(newStreamId(), writer, this.#opts.scope, this.#opts.keepAliveMs);
      // Registered before the priming event: what it holds is recorded before the client has an id.
      this.#opts.onstream?.(this.#stream);
      this.#stream.prime(this.#opts.retryMs);
    }
    return this.#stream;
  }
}
