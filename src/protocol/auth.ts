/**
 * The authentication contract every binding shares: an {@link Authenticator} turns what a binding
 * knows about a caller ({@link AuthRequest}: headers, the request line, a verified client
 * certificate, the first message's `_meta`) into an {@link AuthInfo}, or refuses with an
 * {@link AuthError}. Bindings never interpret credentials themselves; each maps a refusal to its
 * own wire (HTTP 401/403 with `WWW-Authenticate`, WebSocket 401 before the upgrade or close 4001,
 * gRPC UNAUTHENTICATED/PERMISSION_DENIED, MQTT an error with a user property, TCP/Unix/TLS a
 * JSON-RPC error and close). MCP authorization: 2025-11-25 and 2026-07-28 basic/authorization;
 * RFC 6750 section 3 (challenges), RFC 9728 (`resource_metadata`), RFC 9449 (DPoP), RFC 8705.
 * @module
 */
import type { AuthInfo } from './types.js';

export type { AuthInfo } from './types.js';

/** A verified client certificate (mutual TLS), in the one form every binding reports it. */
export interface CertificateIdentity {
  /** Subject fields (`CN`, `O`, `OU`, ...). */
  subject: Record<string, string | string[]>;
  /** Issuer fields. */
  issuer: Record<string, string | string[]>;
  /** Subject alternative names in certificate order, `type` as OpenSSL prints it (`DNS`, `URI`, `IP Address`, `email`). */
  subjectAltNames: { type: string; value: string }[];
  /** The first `URI:spiffe://...` SAN: the workload's SPIFFE ID, if any. */
  spiffeId?: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint256: string;
  /** RFC 8705 `x5t#S256`: base64url (no padding) of the SHA-256 of the DER certificate. */
  x5tS256?: string;
  serialNumber: string;
  /** Validity bounds, ISO 8601. */
  validFrom: string;
  validTo: string;
}

/** What a binding knows about a caller when it asks an {@link Authenticator}. */
export interface AuthRequest {
  /** The binding: `http`, `http-sse`, `websocket`, `grpc`, `mqtt`, `tcp`, `unix`, `tls`. */
  binding: string;
  /** Headers (HTTP, the WebSocket upgrade), gRPC metadata or MQTT user properties; lower-cased names. */
  headers: Record<string, string | undefined>;
  /** The HTTP method of the request (the upgrade's `GET` on WebSocket); DPoP `htm`. */
  httpMethod?: string;
  /** The absolute request URL without query and fragment; DPoP `htu`. */
  url?: string;
  /** The client certificate the TLS layer verified (mTLS), if any. */
  certificate?: CertificateIdentity;
  /** On bindings without headers (TCP, Unix, TLS): the `_meta` of the connection's first message. */
  meta?: Record<string, unknown>;
  /**
   * The caller as the network sees it: `address` (`127.0.0.1:50312`, a Unix socket path) and, on
   * MQTT, the `clientId` its reply topic names (claimed by the client, not verified by the broker).
   */
  peer?: { address?: string; clientId?: string };
}

/**
 * Decides who a caller is. Resolve to an {@link AuthInfo} to admit the caller with that identity,
 * to `undefined` to admit it anonymously, or throw an {@link AuthError} to refuse (any other error
 * is answered as a 401 `invalid_token` without its message, and reported through `onerror`).
 */
export interface Authenticator {
  authenticate(request: AuthRequest): AuthInfo | undefined | Promise<AuthInfo | undefined>;
}

/** The parameters of an RFC 6750 / RFC 9449 challenge (`WWW-Authenticate`). */
export interface AuthChallenge {
  /** `Bearer` (default) or `DPoP`. */
  scheme?: 'Bearer' | 'DPoP';
  /** RFC 6750 error: `invalid_request`, `invalid_token`, `insufficient_scope`; RFC 9449: `invalid_dpop_proof`, `use_dpop_nonce`. */
  error?: string;
  error_description?: string;
  /** Space-separated scopes the operation needs (step-up on 403, the initial request on 401). */
  scope?: string;
  /** RFC 9728 protected resource metadata URL. */
  resource_metadata?: string;
  realm?: string;
  /** RFC 9449 `algs` (DPoP challenges). */
  algs?: string;
  /** Anything else, written as `key="value"`. */
  [param: string]: string | undefined;
}

/**
 * JSON-RPC error code of an authorization refusal answered inside the protocol (bindings without a
 * status line, and an {@link AuthError} thrown by middleware such as per-tool scopes): -32030,
 * with `data: { status, wwwAuthenticate, error? }`.
 */
export const AUTH_ERROR_CODE = -32030;

const AUTH_ERROR_BRAND = Symbol.for('anywire.error.AuthError');

/**
 * A refusal: 401 (no or bad credentials: authenticate again) or 403 (authenticated, not allowed:
 * step up). Thrown by an {@link Authenticator} or by middleware (per-tool scopes); every binding
 * maps it to its wire. `headers` carries extra response headers (`DPoP-Nonce`).
 */
export class AuthError extends Error {
  readonly status: 401 | 403;
  readonly challenge: AuthChallenge;
  readonly headers: Record<string, string>;

  constructor(
    status: 401 | 403,
    message: string,
    challenge: AuthChallenge = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AuthError';
    this.status = status;
    this.challenge = challenge;
    this.headers = headers;
  }

  /** Branded, so `instanceof` holds across duplicate installs of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[AUTH_ERROR_BRAND] === true
    );
  }

  get [AUTH_ERROR_BRAND](): boolean {
    return true;
  }

  /** The `WWW-Authenticate` value: `Bearer error="invalid_token", resource_metadata="..."`. */
  get wwwAuthenticate(): string {
    return formatChallenge(this.challenge);
  }
}

/** Formats one challenge as RFC 7235 `auth-scheme auth-param, ...` with quoted values. */
export function formatChallenge(challenge: AuthChallenge): string {
  const { scheme = 'Bearer', ...params } = challenge;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  }
  return parts.length ? `${scheme} ${parts.join(', ')}` : scheme;
}

/** The principal a legacy session, task or subscription is bound to: `subject`, else `clientId`, else `''` (anonymous). */
export function principalOf(authInfo: AuthInfo | undefined): string {
  return authInfo?.subject ?? authInfo?.clientId ?? '';
}
