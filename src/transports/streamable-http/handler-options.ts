/**
 * Options of the Streamable HTTP server, their named defaults, and the small response helpers every
 * route of the handler shares.
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import type { JsonRpcId } from '../../jsonrpc/types.js';
import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS } from '../../protocol/constants.js';
import type { AuthError, Authenticator } from '../../protocol/auth.js';
import { authErrorResponse } from '../shared/ingress.js';
import type { EventStore } from '../../protocol/event-store.js';
import type { SessionStore } from '../../protocol/session-store.js';
import type { AuthInfo } from '../../protocol/types.js';
import type { HttpSecurityOptions } from '../shared/http-security.js';
import type { Servable } from '../../server/servable.js';
import type { HttpExchange } from './exchange.js';
import type { HealthOptions } from './health.js';
import type { StreamGauge } from './stream-gauge.js';

/** Options of the Streamable HTTP server. Every limit has a unit in its name and a safe default. */
export interface StreamableHttpOptions extends HttpSecurityOptions, HealthOptions {
  /** Serve only this path (e.g. `/mcp`). Default: any path (a framework routes to us). */
  path?: string;
  /** The address the server is bound to; a loopback bind turns on `Host` validation. Default `127.0.0.1`. */
  bindHost?: string;
  /**
   * Legacy (2025-11-25 and older) clients: `sessions` (default: `Mcp-Session-Id`, GET stream,
   * resumption), `stateless` (each request served alone, no session id), or `reject` (400 with -32022).
   */
  legacy?: 'sessions' | 'stateless' | 'reject';
  /** `auto` (default): JSON unless a notification must precede the response, then SSE. `json`: never SSE. `sse`: always. */
  responseMode?: 'auto' | 'json' | 'sse';
  /** Largest accepted request body in bytes (413 beyond). Default 4 MiB. */
  maxBodyBytes?: number;
  /** Time allowed to receive a request body in ms (408 beyond). Default 30 000. */
  bodyTimeoutMs?: number;
  /**
   * After a 413, bytes of the refused body still read and discarded so the client, still
   * uploading, reads the 413 rather than a reset; beyond it the connection is closed. Default 16 MiB.
   */
  maxBodyDrainBytes?: number;
  /** Most concurrent legacy sessions (503 beyond). Default 50 000. */
  maxSessions?: number;
  /** A legacy session without requests for this long is ended, in ms. Default 30 minutes. */
  sessionIdleTimeoutMs?: number;
  /** Most open SSE streams (503 beyond). Default 20 000. */
  maxStreams?: number;
  /** Interval of SSE keep-alive comments in ms (0 = none). Default 15 000. */
  keepAliveIntervalMs?: number;
  /** SSE `retry:` sent with priming events, in ms. Default 1 000. */
  sseRetryMs?: number;
  /**
   * Legacy stream resumption store (scoped per session, see {@link EventStore}); `false` turns
   * resumption off. Default: the served server's `stores.eventStore` (read when the handler is
   * built), else an `InMemoryEventStore` bounded by `maxEventStoreBytes`.
   */
  eventStore?: EventStore | false;
  /**
   * Shares legacy sessions with other processes (see {@link SessionStore}): any process serves any
   * request of a session, rebuilding it from the record `initialize` wrote, and a session outlives
   * the process that created it. Give every process the same shared `eventStore` too (GET stream
   * resumption anywhere). Default: the served server's `stores.sessionStore`, else sessions live in
   * this process only.
   */
  sessionStore?: SessionStore;
  /**
   * Resumption grace in ms: a legacy SSE stream's stored events are dropped this long after its
   * response was delivered (a session's events go when it ends). 0 drops them at once. Default 5 000.
   */
  eventRetentionMs?: number;
  /**
   * Shared legacy sessions (a `sessionStore` with `postStreams`): time to live of this process's
   * lease, in ms, renewed every third of it while it runs POST streams. A client that resumes one of
   * those streams on another process gets an error response (-32603) for each unanswered request at
   * most this long (plus `resumedStreamPollMs`) after this process died. Default 5 000.
   */
  streamOwnerLeaseMs?: number;
  /**
   * Shared legacy sessions: interval in ms at which a POST stream resumed here, whose requests run on
   * another process, checks for new events (besides the session channel's wake-ups), for its
   * record and for the running process's lease. Default 1 000.
   */
  resumedStreamPollMs?: number;
  /**
   * `close()`: time in ms the requests in flight get to have their responses written before
   * streams and sessions end. Default 5 000.
   */
  shutdownGraceMs?: number;
  /** Bound of the default in-memory event store in bytes of JSON text (oldest streams dropped beyond). Default 64 MiB. */
  maxEventStoreBytes?: number;
  /** The 2024-11-05 HTTP+SSE endpoints; `false` turns them off. Default `{ ssePath: '/sse', messagePath: '/messages' }`. */
  httpSse?: { ssePath: string; messagePath: string } | false;
  /**
   * Serves documents under `/.well-known/` before MCP routing and authentication: called for each
   * request whose path starts with `/.well-known/`; a `Response` is sent as is, `undefined` falls
   * through. Mount the RFC 9728 protected resource metadata with
   * `wellKnown: auth.handleMetadataRequest` (`oauthResourceServer()` from `anywire/auth`).
   */
  wellKnown?: (request: Request) => Response | undefined | Promise<Response | undefined>;
  /**
   * Decides who the caller is, for every request: POST, GET and DELETE, and both HTTP+SSE
   * endpoints (the shared ingress, `admit`). It sees the headers, `httpMethod`, the absolute `url`
   * without query, and a verified client certificate. A refusal (`AuthError`) is answered 401/403
   * with `WWW-Authenticate` and the error's headers; any other failure 401 `invalid_token`
   * (reported to `onerror`). Legacy sessions are bound to the principal that opened them.
   */
  authenticator?: Authenticator;
  /**
   * The older hook: derives the caller's identity from request headers. Used (as an
   * `authenticator`) only when `authenticator` is not set.
   * @deprecated use `authenticator`
   */
  authenticate?: (
    headers: Record<string, string | undefined>,
  ) => AuthInfo | undefined | Promise<AuthInfo | undefined>;
  /** Where failures that are nobody's answer are reported (an authenticator that throws a plain Error). */
  onerror?: (error: Error) => void;
}

/** Defaults of the numeric options of {@link StreamableHttpOptions}. */
export const HTTP_DEFAULTS = {
  maxBodyBytes: 4 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  maxBodyDrainBytes: 16 * 1024 * 1024,
  maxSessions: 50_000,
  sessionIdleTimeoutMs: 30 * 60_000,
  maxStreams: 20_000,
  keepAliveIntervalMs: 15_000,
  sseRetryMs: 1000,
  eventRetentionMs: 5000,
  shutdownGraceMs: 5000,
  maxEventStoreBytes: 64 * 1024 * 1024,
  streamOwnerLeaseMs: 5000,
  resumedStreamPollMs: 1000,
};

/** Smallest accepted value of each numeric option (`keepAliveIntervalMs` also takes 0 = none). */
const MINIMUM: { readonly [K in keyof typeof HTTP_DEFAULTS]: number } = {
  maxBodyBytes: 1,
  bodyTimeoutMs: 1,
  maxBodyDrainBytes: 0,
  maxSessions: 1,
  sessionIdleTimeoutMs: 1,
  maxStreams: 1,
  keepAliveIntervalMs: 100,
  sseRetryMs: 0,
  eventRetentionMs: 0,
  shutdownGraceMs: 0,
  maxEventStoreBytes: 1,
  streamOwnerLeaseMs: 100,
  resumedStreamPollMs: 10,
};

/** The numeric options with their defaults applied. */
export type HttpLimits = { readonly [K in keyof typeof HTTP_DEFAULTS]: number };

/**
 * Applies the defaults of the numeric options and validates them.
 * @throws RangeError naming the option and its range when a value is not a finite number in range
 */
export function resolveLimits(options: StreamableHttpOptions): HttpLimits {
  const out = { ...HTTP_DEFAULTS };
  for (const k of Object.keys(HTTP_DEFAULTS) as (keyof typeof HTTP_DEFAULTS)[]) {
    const v = options[k];
    if (v === undefined) continue;
    const min = MINIMUM[k];
    const ok =
      typeof v === 'number' && Number.isFinite(v) && (v >= min || (k === 'keepAliveIntervalMs' && v === 0));
    if (!ok)
      throw new RangeError(
        `StreamableHttpOptions.${k} must be a finite number >= ${min}${k === 'keepAliveIntervalMs' ? ' (or 0 for none)' : ''} (got ${String(v)})`,
      );
    out[k] = v;
  }
  return out;
}

/** `content-type: application/json`. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
});

/** Sends a JSON-RPC error response with an HTTP status. */
export function sendError(
  ex: HttpExchange,
  status: number,
  id: JsonRpcId | null,
  code: number,
  message: string,
  headers: Record<string, string>,
  data?: unknown,
): void {
  ex.send(status, { ...JSON_HEADERS, ...headers }, JSON.stringify(errorResponse(id, code, message, data)));
}

/**
 * Answers an authentication refusal: its status (401/403), `WWW-Authenticate` from the error's
 * challenge, the error's own headers (`DPoP-Nonce`), and a JSON-RPC error body (-32030 with
 * `data: { status, wwwAuthenticate, error }`).
 */
export function sendAuthError(ex: HttpExchange, error: AuthError, headers: Record<string, string>): void {
  ex.send(
    error.status,
    { ...JSON_HEADERS, ...headers, ...error.headers, 'www-authenticate': error.wwwAuthenticate },
    JSON.stringify(authErrorResponse(null, error)),
  );
}

/** HTTP status for a JSON-RPC error answered before any stream opened (2026-07-28 status table). */
export function statusFor(code: number): number {
  switch (code) {
    case ErrorCode.MethodNotFound:
      return 404;
    case ErrorCode.HeaderMismatch:
    case ErrorCode.MissingRequiredClientCapability:
    case ErrorCode.UnsupportedProtocolVersion:
    case ErrorCode.ParseError:
    case ErrorCode.InvalidRequest:
      return 400;
    default:
      return 200;
  }
}

/** What the routes of one server share: the served logic, options, limits and the stream gauge. */
export interface HandlerContext {
  readonly server: Servable;
  readonly options: StreamableHttpOptions;
  readonly limits: HttpLimits;
  readonly streams: StreamGauge;
}

/**
 * True for a revision this implementation knows (any era). `MCP-Protocol-Version: garbage` is not
 * one: it is answered 400 (basic/transports "Protocol Version Header").
 */
export function isKnownVersion(version: string): boolean {
  return LEGACY_PROTOCOL_VERSIONS.includes(version) || MODERN_PROTOCOL_VERSIONS.includes(version);
}
