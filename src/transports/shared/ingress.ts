/**
 * The one ingress every binding runs a caller through, whatever its wire: {@link admit} asks the
 * {@link Authenticator} once per connection (WebSocket upgrade, gRPC `Session`, TCP/Unix/TLS first
 * message) or once per request (HTTP, gRPC `Call`, each MQTT publish) and returns the `AuthInfo` or
 * an {@link AuthError}; {@link watchExpiry} ends a long-lived connection when its credentials
 * expire; {@link extractTrace} / {@link withTrace} read W3C Trace Context into
 * `MessageContext.trace`; {@link ConnectionLimit} admits up to `maxConnections`. Each binding keeps
 * only the mapping of a refusal to its own wire:
 *
 * | binding | refusal | credentials expired during a connection |
 * | --- | --- | --- |
 * | HTTP | 401/403, `WWW-Authenticate` | (per request) |
 * | WebSocket | 401/403 before the upgrade, `WWW-Authenticate` | close 4001 |
 * | gRPC | UNAUTHENTICATED (16) / PERMISSION_DENIED (7), `www-authenticate` trailer | `Session` ends UNAUTHENTICATED |
 * | MQTT | JSON-RPC error {@link AUTH_ERROR_CODE}, user property `www-authenticate` | virtual connection ended (`mcp-reason: expired`) |
 * | TCP, Unix, TLS | JSON-RPC error {@link AUTH_ERROR_CODE}, then close | the same error (id null), then close |
 *
 * This module is runtime-neutral (no `node:` imports); the certificate mapping that needs
 * `node:crypto` lives in `certificate.ts`.
 * @module
 */
import type { JsonRpcErrorResponse, JsonRpcId, JsonRpcMessage } from '../../jsonrpc/types.js';
import { AUTH_ERROR_CODE as PROTOCOL_AUTH_ERROR_CODE, AuthError } from '../../protocol/auth.js';
import { toErrorResponse } from '../../protocol/peer.js';
import type { Authenticator, AuthRequest, CertificateIdentity } from '../../protocol/auth.js';
import type { MessageContext, TraceContext } from '../../protocol/transport.js';
import type { AuthInfo, JsonObject } from '../../protocol/types.js';

/**
 * JSON-RPC error code of an authentication refusal on bindings without a status line (TCP, Unix,
 * TLS, MQTT, and middleware refusals on every connection): -32030. Not -32001, which this
 * project's HTTP binding answers for an unknown session (and the official SDK uses for a request
 * timeout). `error.data` is {@link AuthErrorData}. The same constant as `protocol/auth.ts`.
 */
export const AUTH_ERROR_CODE = PROTOCOL_AUTH_ERROR_CODE;

/** `error.data` of an {@link AUTH_ERROR_CODE} response. */
export interface AuthErrorData {
  /** 401 (authenticate again) or 403 (authenticated, not allowed: step up). */
  status: 401 | 403;
  /** The challenge an HTTP server would send as `WWW-Authenticate`, e.g. `Bearer error="invalid_token"`. */
  wwwAuthenticate: string;
  /** The RFC 6750 `error` of the challenge, when it has one (`invalid_token`, `insufficient_scope`). */
  error?: string;
}

/** The verdict of {@link admit}. */
export type Admission = { ok: true; authInfo?: AuthInfo } | { ok: false; error: AuthError };

/** Options of {@link admit}. */
export interface AdmitOptions {
  /** Where an authenticator's unexpected (non-`AuthError`) failure is reported. */
  onerror?: (error: Error) => void;
}

/**
 * The `AuthInfo` of a verified client certificate (see `certificate.ts`, which maps Node's
 * `PeerCertificate`): `clientId` = the SPIFFE ID, else the subject CN, else the first SAN value;
 * `subject` = the CN, else the SPIFFE ID, else the first SAN value; `expiresAt` = `notAfter` in
 * seconds since the epoch; `extra.certificate` = the identity.
 */
export function identityAuthInfo(identity: CertificateIdentity): AuthInfo {
  const cn = identity.subject.CN;
  const commonName = (Array.isArray(cn) ? cn[0] : cn) || undefined;
  const firstSan = identity.subjectAltNames[0]?.value;
  const info: AuthInfo = { extra: { certificate: identity as unknown as JsonObject } };
  const subject = commonName ?? identity.spiffeId ?? firstSan;
  const clientId = identity.spiffeId ?? commonName ?? firstSan;
  if (subject !== undefined) info.subject = subject;
  if (clientId !== undefined) info.clientId = clientId;
  const expires = Date.parse(identity.validTo);
  if (!Number.isNaN(expires)) info.expiresAt = Math.floor(expires / 1000);
  return info;
}

/** The refusal for credentials whose `expiresAt` passed: 401, `error="invalid_token"`. */
export function expiredError(): AuthError {
  return new AuthError(401, 'Unauthorized: the credentials expired', {
    error: 'invalid_token',
    error_description: 'the credentials expired',
  });
}

/**
 * Admits one caller (a connection, or one request on request-shaped bindings).
 *
 * - Without an authenticator: admitted, with the certificate's identity when `request.certificate`
 *   is set (mutual TLS), else anonymously.
 * - The authenticator's `AuthInfo` admits with that identity; `undefined` admits with the
 *   certificate's identity, else anonymously.
 * - An `AuthError` it throws is the refusal; any other error becomes a 401 `invalid_token` whose
 *   message does not leak the cause, and the cause goes to `onerror`.
 * - An `AuthInfo` whose `expiresAt` (seconds since the epoch) has passed is refused (401
 *   `invalid_token`), as is a certificate-bound token (`confirmation["x5t#S256"]`, RFC 8705
 *   section 3) presented without that certificate.
 *
 * Never throws.
 */
export async function admit(
  authenticator: Authenticator | undefined,
  request: AuthRequest,
  options: AdmitOptions = {},
): Promise<Admission> {
  let authInfo: AuthInfo | undefined;
  if (authenticator) {
    try {
      authInfo = await authenticator.authenticate(request);
    } catch (error) {
      if (error instanceof AuthError) return { ok: false, error };
      const cause = error instanceof Error ? error : new Error(String(error));
      options.onerror?.(
        new Error(`anywire: the authenticator failed on ${request.binding}: ${cause.message}`, { cause }),
      );
      return {
        ok: false,
        error: new AuthError(401, 'Unauthorized: the credentials could not be verified', {
          error: 'invalid_token',
        }),
      };
    }
  }
  if (authInfo === undefined && request.certificate) authInfo = identityAuthInfo(request.certificate);
  if (authInfo === undefined) return { ok: true };
  if (authInfo.expiresAt !== undefined && authInfo.expiresAt * 1000 <= Date.now())
    return { ok: false, error: expiredError() };
  const bound = authInfo.confirmation?.['x5t#S256'];
  if (bound !== undefined && bound !== request.certificate?.x5tS256) {
    return {
      ok: false,
      error: new AuthError(401, 'Unauthorized: the token is bound to another client certificate', {
        error: 'invalid_token',
        error_description: 'certificate-bound token (RFC 8705) without its certificate',
      }),
    };
  }
  return { ok: true, authInfo };
}

/**
 * A refusal as a JSON-RPC error response ({@link AUTH_ERROR_CODE}, message `Unauthorized: ...` or
 * `Forbidden: ...`, `data` = {@link AuthErrorData}).
 */
export function authErrorResponse(id: JsonRpcId | null, error: AuthError): JsonRpcErrorResponse {
  return toErrorResponse(id, error);
}

/** Longest delay `setTimeout` takes (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onexpired` once when `authInfo.expiresAt` (seconds since the epoch) passes: at once (on a
 * microtask) when it already has, never when there is none. The timer is unref'd, so it does not
 * keep the process alive. Returns the function that stops watching.
 */
export function watchExpiry(authInfo: AuthInfo | undefined, onexpired: () => void): () => void {
  const at = authInfo?.expiresAt;
  if (at === undefined || !Number.isFinite(at)) return () => {};
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (stopped) return;
    const ms = at * 1000 - Date.now();
    if (ms <= 0) {
      stopped = true;
      onexpired();
      return;
    }
    timer = setTimeout(arm, Math.min(ms, MAX_TIMER_MS));
    (timer as { unref?: () => void }).unref?.();
  };
  const first = at * 1000 - Date.now();
  if (first <= 0) queueMicrotask(arm);
  else arm();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-.*)?$/;
const MAX_TRACESTATE_BYTES = 512;
const MAX_BAGGAGE_BYTES = 8192;

function pick(source: Record<string, unknown> | undefined, key: string): string | undefined {
  if (!source || !Object.prototype.hasOwnProperty.call(source, key)) return undefined;
  const v = source[key];
  return typeof v === 'string' ? v.trim() : undefined;
}

/**
 * W3C Trace Context from a request's headers (lower-cased names) or, failing that, its `_meta`
 * (`traceparent`, `tracestate`, `baggage`). A `traceparent` that does not parse (bad hex, version
 * `ff`, an all-zero trace or parent id) gives `undefined`; an oversized `tracestate`/`baggage` is
 * dropped.
 */
export function extractTrace(
  headers?: Record<string, string | undefined>,
  meta?: Record<string, unknown>,
): TraceContext | undefined {
  for (const source of [headers, meta] as (Record<string, unknown> | undefined)[]) {
    const traceparent = pick(source, 'traceparent');
    if (traceparent === undefined) continue;
    const m = TRACEPARENT.exec(traceparent);
    if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
    if (m[1] === '00' && traceparent.length !== 55) return undefined;
    const trace: TraceContext = { traceparent };
    const tracestate = pick(source, 'tracestate');
    if (tracestate && tracestate.length <= MAX_TRACESTATE_BYTES) trace.tracestate = tracestate;
    const baggage = pick(source, 'baggage');
    if (baggage && baggage.length <= MAX_BAGGAGE_BYTES) trace.baggage = baggage;
    return trace;
  }
  return undefined;
}

/** The `_meta` of a request or notification, when it is an object (own properties only). */
export function metaOf(message: JsonRpcMessage | JsonRpcMessage[]): Record<string, unknown> | undefined {
  const m = Array.isArray(message) ? message[0] : message;
  if (!m || !('method' in m)) return undefined;
  const params = m.params as Record<string, unknown> | undefined;
  if (!params || typeof params !== 'object' || !Object.prototype.hasOwnProperty.call(params, '_meta'))
    return undefined;
  const meta = params._meta;
  return meta && typeof meta === 'object' && !Array.isArray(meta)
    ? (meta as Record<string, unknown>)
    : undefined;
}

/**
 * `context` with the trace context of `message`'s `_meta` (single messages only), or `context`
 * itself when the message carries none: the per-message hook of connection-shaped bindings.
 */
export function withTrace(
  context: MessageContext,
  message: JsonRpcMessage | JsonRpcMessage[],
): MessageContext {
  if (Array.isArray(message)) return context;
  const meta = metaOf(message);
  if (meta === undefined || !('traceparent' in meta)) return context;
  const trace = extractTrace(undefined, meta);
  return trace ? { ...context, trace } : context;
}

/**
 * Counts open connections against `maxConnections` (the one name every binding uses for
 * concurrent connections, streams, clients or sessions). What a binding answers past it: WebSocket
 * close 1013 (or 503 before the upgrade), gRPC RESOURCE_EXHAUSTED, MQTT -32603, TCP/Unix/TLS a
 * closed socket.
 */
export class ConnectionLimit {
  /** The limit. */
  readonly max: number;
  #open = 0;

  /** @throws RangeError when `max` is not an integer of at least 1 */
  constructor(max: number, option = 'maxConnections') {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`anywire: ${option} must be an integer of at least 1 (got ${String(max)})`);
    this.max = max;
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.#open;
  }

  /** Takes a slot; false when all `max` are taken. */
  tryAcquire(): boolean {
    if (this.#open >= this.max) return false;
    this.#open++;
    return true;
  }

  /** Gives a slot back (call once per successful {@link tryAcquire}). */
  release(): void {
    if (this.#open > 0) this.#open--;
  }
}
