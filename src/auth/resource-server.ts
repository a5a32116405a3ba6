/**
 * `oauthResourceServer()`: an OAuth 2.1 resource server as an {@link Authenticator} that every
 * binding calls (MCP authorization, 2025-11-25 and 2026-07-28: "Token Handling", "Access Token
 * Privilege Restriction"). It validates JWT access tokens (RFC 9068) against the issuer's JWKS and
 * opaque ones by RFC 7662 introspection, checks the audience is this resource (RFC 8707), the
 * required scopes, DPoP proofs (RFC 9449) and certificate binding (RFC 8705), and answers refusals
 * with the challenges clients discover and step up from (RFC 6750 section 3, RFC 9728).
 * @module
 */
import type { AuthRequest, Authenticator } from '../protocol/auth.js';
import type { AuthInfo } from '../protocol/types.js';
import { Challenges } from './challenges.js';
import { AuthorizationServerMetadata } from './discovery.js';
import { contentDigestMatches, DpopVerifier } from './dpop.js';
import { sha256Base64Url } from './encoding.js';
import { ExpiringCache } from './expiring-cache.js';
import { Introspector } from './introspection.js';
import { JwtVerifier } from './jwt-verifier.js';
import type { ProtectedResourceMetadata } from './metadata.js';
import {
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataPaths,
} from './metadata.js';
import type { OAuthResourceServerOptions, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';

/** RFC 6750 `b64token` (section 2.1). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const CREDENTIAL = /^([A-Za-z]+) +(\S+) *$/;
/** UTF-8 length of `s`, without encoding it when it is short enough either way (ASCII is 1:1). */
function utf8Bytes(s: string, limit: number): number {
  return s.length * 3 <= limit ? s.length : new TextEncoder().encode(s).length;
}

/** A compact JWS: three base64url segments whose header decodes to an object with `alg`. */
function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0]) return false;
  try {
    const header: unknown = JSON.parse(atob(parts[0].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}

/**
 * The resource server: an {@link Authenticator} plus what the HTTP binding and middleware need
 * (the RFC 9728 document and its handler, the challenges). Build it with {@link oauthResourceServer}.
 */
export class OAuthResourceServer implements Authenticator {
  /** The canonical resource URL tokens must be issued for (`aud`). */
  readonly resource: string;
  /** The RFC 9728 document. */
  readonly metadata: ProtectedResourceMetadata;
  /** Where the document is served: the path-suffixed well-known path, then the root one. */
  readonly metadataPaths: readonly string[];
  /** The URL put in challenges' `resource_metadata`. */
  readonly resourceMetadataUrl: string;
  /**
   * Serves the RFC 9728 document: `(Request) => Response | undefined` (`undefined` for any other
   * path). Mount it in front of the MCP endpoint; it needs no credentials.
   */
  readonly handleMetadataRequest: (request: Request) => Response | undefined;
  /** The refusals, for middleware that enforces more scopes (`toolScopes`, `requireScopes`). */
  readonly challenges: Challenges;

  readonly #o: ResolvedOptions;
  readonly #jwt: JwtVerifier;
  readonly #introspector?: Introspector;
  readonly #dpop?: DpopVerifier;
  readonly #cache: ExpiringCache<AuthInfo>;
  readonly #inflight = new Map<string, Promise<AuthInfo>>();

  constructor(options: OAuthResourceServerOptions) {
    const o = resolveOptions(options);
    this.#o = o;
    this.resource = o.resource;
    this.resourceMetadataUrl = o.resourceMetadataUrl;
    this.challenges = new Challenges(o.resourceMetadataUrl, o.requiredScopes, o.dpop);
    this.metadata = protectedResourceMetadata({
      resource: o.resource,
      issuer: options.issuer,
      scopesSupported: o.scopesSupported,
      ...(o.dpop ? { dpop: o.dpop } : {}),
      extra: o.metadata,
    });
    this.metadataPaths = protectedResourceMetadataPaths(o.resource);
    this.handleMetadataRequest = protectedResourceMetadataHandler(this.metadata, this.metadataPaths);
    const as = new AuthorizationServerMetadata(
      o.issuer,
      { fetch: o.fetch, httpTimeoutMs: o.httpTimeoutMs, now: o.now },
      o.jwksCooldownMs,
    );
    this.#jwt = new JwtVerifier(o, this.challenges, as);
    if (o.introspection) this.#introspector = new Introspector(o, this.challenges, as);
    if (o.dpop) this.#dpop = new DpopVerifier(o.dpop, this.challenges, o.now);
    this.#cache = new ExpiringCache(o.maxTokenCacheEntries, o.now);
    this.authenticate = this.authenticate.bind(this);
  }

  /**
   * Authenticates one request (see {@link Authenticator}). The credential is the `Authorization`
   * header (`Bearer <token>`, or `DPoP <token>` with a `DPoP` proof header), or on bindings without
   * headers (TCP, Unix, TLS) the string `authorization` in the first message's `_meta`.
   * Resolves to the caller's {@link AuthInfo} (a fresh copy each time); rejects with an
   * {@link AuthError}: 401 without `error` (no credential), 401 `invalid_request` (malformed or over
   * `maxCredentialBytes`), 401 `invalid_token` (bad, expired, revoked, for another resource, bound
   * to another key or certificate, a DPoP-bound token sent as Bearer), 401 `invalid_dpop_proof` /
   * `use_dpop_nonce` (DPoP scheme), 403 `insufficient_scope` (missing `requiredScopes`); or with a
   * plain `Error` when the authorization server cannot be reached.
   */
  async authenticate(request: AuthRequest): Promise<AuthInfo> {
    const c = this.challenges;
    const meta = request.meta?.authorization;
    const header = request.headers.authorization ?? (typeof meta === 'string' ? meta : undefined);
    if (header === undefined || header === '') throw c.missing();
    if (utf8Bytes(header, this.#o.maxCredentialBytes) > this.#o.maxCredentialBytes)
      throw c.invalidRequest(`credential larger than ${this.#o.maxCredentialBytes} bytes`);
    const m = CREDENTIAL.exec(header);
    const scheme = m?.[1]!.toLowerCase();
    if (!m || (scheme !== 'bearer' && scheme !== 'dpop'))
      throw c.invalidRequest('expected a Bearer or DPoP credential');
    const token = m[2]!;
    if (!B64TOKEN.test(token)) throw c.invalidRequest('malformed access token');

    const info = await this.verifyToken(token);

    const jkt = info.confirmation?.jkt;
    let digest: string | undefined;
    if (scheme === 'dpop') {
      if (!this.#dpop) throw c.invalidToken('DPoP is not accepted by this resource');
      const proof = request.headers.dpop;
      if (!proof) throw c.invalidDpopProof('a DPoP proof is required with the DPoP scheme');
      if (utf8Bytes(proof, this.#o.maxCredentialBytes) > this.#o.maxCredentialBytes)
        throw c.invalidDpopProof(`DPoP proof larger than ${this.#o.maxCredentialBytes} bytes`);
      if (!jkt) throw c.invalidToken('the token is not DPoP-bound (no cnf.jkt)', true);
      digest = await this.#dpop.verify({ proof, method: request.httpMethod, url: request.url, token, jkt });
    } else {
      // RFC 9449 section 7.2: a DPoP-bound token presented as a bearer token is refused.
      if (jkt) throw c.invalidToken('a DPoP-bound token must be presented with the DPoP scheme', true);
      if (this.#o.dpop?.required) throw c.invalidToken('DPoP-bound tokens are required', true);
    }

    // RFC 8705 section 3: a certificate-bound token is honoured only over that certificate.
    const x5t = info.confirmation?.['x5t#S256'];
    if (x5t !== undefined) {
      if (!request.certificate)
        throw c.invalidToken('certificate-bound token presented without a client certificate');
      if (request.certificate.x5tS256 !== x5t)
        throw c.invalidToken('the client certificate is not the one the token is bound to (cnf x5t#S256)');
    }

    const granted = info.scopes ?? [];
    const required = this.#o.requiredScopes;
    if (required.some((s) => !granted.includes(s))) throw c.insufficientScope(required, granted);
    // The MCP DPoP profile's content_digest, for verifyContentDigest() once the body is read.
    if (digest !== undefined) return { ...info, extra: { ...info.extra, dpopContentDigest: digest } };
    return { ...info };
  }

  /**
   * The MCP DPoP profile's body binding: checks that the request body's SHA-256 is the
   * `content_digest` the request's DPoP proof carried (kept by {@link authenticate} in
   * `authInfo.extra.dpopContentDigest`). Call it once the body is read. Passes when the request
   * carried no such claim, unless `dpop.contentDigest` is set.
   * @throws AuthError 401 `invalid_dpop_proof` when the digest does not match (or is required and missing).
   */
  async verifyContentDigest(authInfo: AuthInfo | undefined, body: string | Uint8Array): Promise<void> {
    const digest = authInfo?.extra?.dpopContentDigest;
    if (typeof digest !== 'string') {
      if (this.#o.dpop?.contentDigest && authInfo?.confirmation?.jkt)
        throw this.challenges.invalidDpopProof('DPoP proof content_digest is required (MCP DPoP profile)');
      return;
    }
    if (!(await contentDigestMatches(digest, body)))
      throw this.challenges.invalidDpopProof('DPoP proof content_digest does not match the request body');
  }

  /**
   * Verifies an access token by itself (no scheme, proof, certificate or scope checks): JWTs by
   * signature and claims, others by introspection. Verified JWTs are cached by SHA-256 until `exp`
   * (bounded by `maxTokenCacheEntries`). Rejects like {@link authenticate}.
   */
  async verifyToken(token: string): Promise<AuthInfo> {
    const key = await sha256Base64Url(token);
    let info = this.#cache.get(key);
    if (!info) {
      let pending = this.#inflight.get(key);
      if (!pending) {
        pending = this.#verify(token, key).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      info = await pending;
    }
    if (info.expiresAt !== undefined && info.expiresAt + this.#o.clockSkewSec <= this.#o.now() / 1000) {
      this.#cache.delete(key);
      throw this.challenges.invalidToken('token expired');
    }
    return info;
  }

  async #verify(token: string, key: string): Promise<AuthInfo> {
    if (!looksLikeJwt(token)) {
      if (this.#introspector) return this.#introspector.verify(token, key);
      throw this.challenges.invalidToken('token malformed (not a JWT, and introspection is not configured)');
    }
    const info = await this.#jwt.verify(token);
    if (info.expiresAt !== undefined)
      this.#cache.set(key, info, (info.expiresAt + this.#o.clockSkewSec) * 1000);
    return info;
  }

  /** The DPoP nonce clients must use now (for a `DPoP-Nonce` response header), when nonces are on. */
  dpopNonce(): string | undefined {
    return this.#dpop?.nonce();
  }
}

/**
 * Creates an OAuth 2.1 resource server for an MCP server: pass it as the `authenticator` of any
 * binding and mount `handleMetadataRequest` on the HTTP one.
 * @throws TypeError / RangeError naming the option, for invalid options.
 * @example
 * const auth = oauthResourceServer({
 *   issuer: 'https://auth.example.com',
 *   resource: 'https://mcp.example.com/mcp',
 *   requiredScopes: ['mcp:tools'],
 * });
 */
export function oauthResourceServer(options: OAuthResourceServerOptions): OAuthResourceServer {
  return new OAuthResourceServer(options);
}
