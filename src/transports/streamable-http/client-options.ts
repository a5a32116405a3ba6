/**
 * The options of the Streamable HTTP client transport and their defaults. Declared here so the
 * transport's role files (streams, session) can share them; `client.ts` re-exports every public
 * name, which is where users import them from.
 * @module
 */

/** The subset of `fetch` the transport uses; pass your own for proxies, auth, tests or HTTP/2 agents. */
export type FetchLike = (input: string | URL, init: RequestInit) => Promise<Response>;

/**
 * Authorization for every HTTP request of the transport: it wraps the transport's fetch, adds the
 * credentials (`Authorization`, `DPoP`) and handles 401/403 by authorizing and retrying once
 * (2025-11-25 basic/authorization). `OAuthClientProvider` from `anywire/client/auth` is one.
 */
export interface HttpAuthProvider {
  /** Returns the fetch the transport uses: `fetch` with authorization added. */
  wrapFetch(fetch: FetchLike): FetchLike;
}

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

/** Options of `StreamableHttpClientTransport`. */
export interface StreamableHttpClientTransportOptions {
  /** The MCP endpoint (for an HTTP+SSE server: its SSE URL). */
  url: string | URL;
  /** Custom fetch. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** OAuth 2.1 (or any) authorization wrapped around `fetch`; see {@link HttpAuthProvider}. */
  authProvider?: HttpAuthProvider;
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
