/**
 * The response streams of the Streamable HTTP client: which HTTP exchanges are open and which
 * requests each still owes, and the per-stream SSE loop with its reconnection policy. A legacy
 * stream that breaks before its response (or the standalone GET stream, whenever it ends) is
 * reopened with GET + `Last-Event-ID` after the server's `retry:` delay (2025-11-25
 * basic/transports "Resumability and Redelivery"); a stream that cannot be resumed answers the
 * requests it owed locally with -32603 so their callers do not wait for a timeout.
 * Internal to `StreamableHttpClientTransport`.
 * @module
 */
import type {
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcRequest,
  JsonRpcResponse,
} from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { ReconnectionOptions } from './client-options.js';
import { discardBody, mediaType, readSseStream } from './client-sse.js';

/** Abort reason of an exchange ended by the caller's cancellation (or a session renewal): silent. */
export const CANCELLED = Object.freeze({ anywire: 'cancelled' });
/** Abort reason of an exchange ended by `close()` (or the end of an HTTP+SSE connection). */
export const CLOSED = Object.freeze({ anywire: 'closed' });
/** How many SSE event ids per stream are remembered to drop replayed duplicates. */
const SEEN_EVENT_IDS = 1024;

/** One HTTP exchange and its SSE stream (a POST, its resumptions, or the standalone GET). */
export interface StreamState {
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

/** Receives the response to an internal request (the re-`initialize`) instead of `onmessage`. */
export type ResponseWaiter = (response: JsonRpcResponse) => void;

/** A request sent and not yet answered. */
export interface Inflight {
  method: string;
  modern: boolean;
  stream: StreamState;
  /** Internal requests (the re-`initialize`) are answered here instead of `onmessage`. */
  waiter?: ResponseWaiter;
}

/** What {@link ClientStreams} needs from the transport that owns it. */
export interface ClientStreamsOptions {
  /** The resumption policy, defaults applied. */
  reconnection: ReconnectionOptions;
  /** Largest accepted SSE event in bytes. */
  maxMessageBytes: number;
  /** GETs the endpoint for a stream (the standalone GET or a resumption) with `Last-Event-ID` when given. */
  get: (lastEventId: string | undefined, signal: AbortSignal) => Promise<Response>;
  /** The `data` of one `message` event read from `state` (JSON text, not yet parsed). */
  ondata: (data: string, state: StreamState) => void;
  /** Delivers the response made up locally for a request whose stream died. */
  deliver: (response: JsonRpcErrorResponse, state: StreamState) => void;
  /** A non-fatal problem. */
  onerror: (error: Error) => void;
}

/** Resolves after `ms`, or as soon as `signal` aborts; never rejects. */
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

/** The local answer to request `id` when its response can no longer arrive. */
function lostResponse(id: JsonRpcId, reason: string): JsonRpcErrorResponse {
  return { jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error: ${reason}` } };
}

/**
 * The open exchanges of one Streamable HTTP client transport and the requests they still owe,
 * with the loop that reads each SSE stream to its end and resumes it (see the module docs).
 */
export class ClientStreams {
  readonly #options: ClientStreamsOptions;
  readonly #streams = new Set<StreamState>();
  readonly #inflight = new Map<JsonRpcId, Inflight>();
  #getStream: StreamState | undefined;

  constructor(options: ClientStreamsOptions) {
    this.#options = options;
  }

  // ---- bookkeeping -------------------------------------------------------------------------

  /** Registers a new exchange. */
  open(kind: 'post' | 'get', modern: boolean, label: string): StreamState {
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

  /** Stops tracking an exchange whose requests are answered elsewhere or already read; they stay in flight. */
  release(state: StreamState): void {
    this.#streams.delete(state);
  }

  /** Forgets a stream and the requests it still owed (their callers learn of it otherwise). */
  drop(state: StreamState): void {
    this.#streams.delete(state);
    for (const id of state.pending) if (this.#inflight.get(id)?.stream === state) this.#inflight.delete(id);
    state.pending.clear();
  }

  /** Records `requests` as owed by `state`; a `waiter` receives their responses instead of `onmessage`. */
  track(state: StreamState, requests: JsonRpcRequest[], waiter?: ResponseWaiter): void {
    for (const r of requests) {
      state.pending.add(r.id);
      const entry: Inflight = { method: r.method, modern: state.modern, stream: state };
      if (waiter) entry.waiter = waiter;
      this.#inflight.set(r.id, entry);
    }
  }

  /** Forgets request `id` without touching its stream (an internal request that timed out). */
  forget(id: JsonRpcId): void {
    this.#inflight.delete(id);
  }

  /** A response to `id` arrived (on `state`, when known): stops tracking the request and returns it. */
  settle(id: JsonRpcId, state: StreamState | undefined): Inflight | undefined {
    state?.pending.delete(id);
    const entry = this.#inflight.get(id);
    if (entry) {
      this.#inflight.delete(id);
      entry.stream.pending.delete(id);
    }
    return entry;
  }

  /**
   * Stops tracking a cancelled request and aborts its exchange once that owes nothing else
   * (2026-07-28 streamable-http "Cancellation"); returns the request, if it was in flight.
   */
  cancel(id: JsonRpcId): Inflight | undefined {
    const entry = this.#inflight.get(id);
    if (!entry) return undefined;
    this.#inflight.delete(id);
    entry.stream.pending.delete(id);
    if (entry.stream.pending.size === 0) entry.stream.controller.abort(CANCELLED);
    return entry;
  }

  /** Aborts every open exchange with `reason`. */
  abortAll(reason: typeof CLOSED): void {
    for (const s of this.#streams) s.controller.abort(reason);
  }

  /** Answers every request a dead stream still owed with a local -32603 error response. */
  lose(state: StreamState, reason: string): void {
    for (const id of [...state.pending]) {
      if (this.#inflight.get(id)?.stream === state) this.#options.deliver(lostResponse(id, reason), state);
    }
    state.pending.clear();
  }

  /** Opens the legacy standalone GET stream for server-initiated messages, unless it is open. */
  openGetStream(): void {
    if (this.#getStream) return;
    const state = this.open('get', false, 'GET');
    this.#getStream = state;
    void this.run(state);
  }

  /** Ends the standalone GET stream (its session expired). */
  endGetStream(): void {
    this.#getStream?.controller.abort(CANCELLED);
    this.#getStream = undefined;
  }

  // ---- SSE streams -------------------------------------------------------------------------

  /**
   * Reads a stream to its end and keeps it alive: a legacy stream that breaks before its response
   * (or the standalone GET stream, whenever it ends) is reopened with GET + `Last-Event-ID` after the
   * server's `retry:` delay, growing per {@link ReconnectionOptions} (2025-11-25 basic/transports
   * "Resumability and Redelivery"). A stream that cannot be resumed loses its requests (see {@link lose}).
   * Without `first`, starts with a GET at once (the standalone GET stream).
   */
  async run(state: StreamState, first?: Response): Promise<void> {
    const { reconnection, onerror } = this.#options;
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
            onerror(error);
            this.lose(state, error.message);
            return;
          }
          if (state.modern) {
            this.lose(
              state,
              `the response stream of ${state.label} ended before the response (2026-07-28 streams are not resumable)`,
            );
            return;
          }
          if (state.kind === 'post' && state.lastEventId === undefined) {
            this.lose(
              state,
              `the response stream of ${state.label} ended before the response, without an event id to resume from`,
            );
            return;
          }
        }
        if (state.attempts >= reconnection.maxRetries) {
          const why = `gave up resuming the ${state.label} stream after ${state.attempts} attempts`;
          if (state.kind === 'get') onerror(new McpError('CONNECTION_CLOSED', why));
          this.lose(state, why);
          return;
        }
        await sleep(immediate ? 0 : this.#delay(state), state.controller.signal);
        immediate = false;
        if (state.controller.signal.aborted) return;
        state.attempts++;
        let r: Response;
        try {
          r = await this.#options.get(state.lastEventId, state.controller.signal);
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
          onerror(
            new McpError('HTTP_ERROR', `GET to resume the ${state.label} stream answered ${r.status}`, {
              status: r.status,
            }),
          );
        this.lose(state, `resuming the ${state.label} stream was refused with ${r.status}`);
        return;
      }
    } finally {
      this.drop(state);
      if (this.#getStream === state) this.#getStream = undefined;
    }
  }

  /** One SSE event: drops replayed duplicates, remembers the id to resume from, passes on messages. */
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
    this.#options.ondata(event.data, state);
  }

  /** Reads one response body as SSE to its end; returns the error that ended it, if any. */
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
        this.#options.maxMessageBytes,
      );
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** The wait before the next resumption: the server's `retry:` (or the initial delay), grown per attempt. */
  #delay(state: StreamState): number {
    const r = this.#options.reconnection;
    const base = state.retryMs ?? r.initialDelayMs;
    return Math.min(base * r.growFactor ** state.attempts, Math.max(r.maxDelayMs, base));
  }
}
