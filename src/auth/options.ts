/**
 * Options of {@link oauthResourceServer} and their validation (a `RangeError` or `TypeError`
 * naming the option, at construction).
 * @module
 */
import type { ReplayCache } from '../protocol/replay-cache.js';
import type { TokenCache } from '../protocol/token-cache.js';

/** RFC 7662 token introspection for opaque (non-JWT) access tokens. */
export interface IntrospectionOptions {
  /** The introspection endpoint. Default: `introspection_endpoint` from the issuer's metadata. */
  endpoint?: string;
  /** This resource server's client id at the authorization server. */
  clientId: string;
  clientSecret: string;
  /** How the client authenticates: `client_secret_basic` (default) or `client_secret_post`. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * How long an introspection answer (active or not) is reused, in ms, never past the token's
   * `exp`. A revoked token is refused at the latest this long after revocation. Default 60 000;
   * 0 asks the authorization server every time.
   */
  cacheTtlMs?: number;
  /** Bound of the introspection cache (oldest evicted first). Default 10 000. */
  maxCacheEntries?: number;
}

/** {@link DpopOptions} with their defaults applied (`replayCache` stays optional). */
export type ResolvedDpopOptions = Required<Omit<DpopOptions, 'replayCache'>> & { replayCache?: ReplayCache };

/** DPoP (RFC 9449): sender-constrained tokens on HTTP and the WebSocket upgrade. */
export interface DpopOptions {
  /** Refuse tokens not presented with `Authorization: DPoP` and a proof. Default false. */
  required?: boolean;
  /** Require a server nonce in proofs (RFC 9449 section 9; `use_dpop_nonce`). Default false. */
  nonce?: boolean;
  /** How long a server nonce stays valid, in seconds (the previous one is also accepted). Default 300. */
  nonceLifetimeSec?: number;
  /** How far a proof's `iat` may be from now, either way, in seconds. Default 300 (the MCP DPoP profile's ±5 minutes). */
  iatWindowSec?: number;
  /** Bound of the `jti` replay cache; under overflow, proofs older than the oldest evicted one are refused. Default 100 000. */
  maxReplayEntries?: number;
  /**
   * Where seen `jti`s are kept (RFC 9449 section 11.1): share one between processes (e.g.
   * `stores.dpopReplayCache` of `redisStores` in `anywire/redis`) so a proof replayed against
   * another process is refused too. A cache that throws fails the request (HTTP 500). Default: in
   * memory, bounded by `maxReplayEntries`.
   */
  replayCache?: ReplayCache;
  /**
   * Require the MCP DPoP profile's `content_digest` claim in proofs (the proof's binding to the
   * request body). Checking it against the body is the binding's call to
   * `OAuthResourceServer.verifyContentDigest()` once the body is read. Default false: a claim that
   * is present is kept for that check, a missing one is accepted (plain RFC 9449 clients).
   */
  contentDigest?: boolean;
  /** Accepted proof algorithms (asymmetric only). Default ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA, Ed25519. */
  algorithms?: string[];
}

/** Options of {@link oauthResourceServer}. */
export interface OAuthResourceServerOptions {
  /** The authorization server's issuer identifier (https, or http on a loopback host). */
  issuer: string;
  /**
   * This server's canonical resource URL (RFC 8707, RFC 9728 `resource`), e.g.
   * `https://mcp.example.com/mcp`. Access tokens must name it in `aud`.
   */
  resource: string;
  /** Scopes every request needs (403 `insufficient_scope` otherwise); also the 401 challenge's `scope`. */
  requiredScopes?: string[];
  /** RFC 9728 `scopes_supported`. Default: `requiredScopes`. */
  scopesSupported?: string[];
  /** The JWKS URL for JWT access tokens. Default: `jwks_uri` from the issuer's RFC 8414 or OIDC metadata. */
  jwksUri?: string;
  /** Introspection for opaque tokens. Without it only JWT access tokens are accepted. */
  introspection?: IntrospectionOptions;
  /**
   * A token cache shared between processes (e.g. `stores.tokenCache` of `redisStores` in
   * `anywire/redis`): introspection answers are kept there too, under the SHA-256 of the issuer and
   * the token (never the token), until `introspection.cacheTtlMs` after the introspection and never
   * past the token's `exp`, so every process reuses an answer one of them got. Read after this
   * process's own cache; a cache that throws counts as a miss (the token is introspected). Default:
   * none (each process introspects on its own).
   */
  tokenCache?: TokenCache;
  /** Tolerance for `exp`/`nbf`/`iat`, in seconds. Default 60. */
  clockSkewSec?: number;
  /** Accepted JWT `typ` headers (compared without `application/`, case-insensitively). Default `['at+jwt']` (RFC 9068 section 4). */
  accessTokenTypes?: string[];
  /** Accepted JWS algorithms for access tokens (asymmetric only). Default RS256/384/512, PS256/384/512, ES256/384/512, EdDSA, Ed25519. */
  algorithms?: string[];
  /** How long a fetched JWKS is trusted, in ms. Default 600 000. */
  jwksCacheMaxAgeMs?: number;
  /** Minimum time between JWKS refetches triggered by an unknown `kid`, in ms. Default 30 000. */
  jwksCooldownMs?: number;
  /** Timeout of each request to the authorization server (metadata, JWKS, introspection), in ms. Default 5 000. */
  httpTimeoutMs?: number;
  /** Bound of the verified-token cache (by SHA-256 of the token, until `exp`). Default 10 000; 0 disables it. */
  maxTokenCacheEntries?: number;
  /** Largest accepted credential (`Authorization` value or DPoP proof), in bytes. Default 16 384. */
  maxCredentialBytes?: number;
  /** DPoP (RFC 9449). Without it, DPoP-bound tokens are refused. */
  dpop?: DpopOptions;
  /** Where the RFC 9728 document is served. Default: the path-suffixed well-known URL of `resource`. */
  resourceMetadataUrl?: string;
  /** Extra members of the RFC 9728 document (`resource_name`, `resource_documentation`, ...). */
  metadata?: Record<string, unknown>;
  /** The fetch used to reach the authorization server. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** The clock, ms since the epoch (tests). Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** Options with every default applied. */
export interface ResolvedOptions {
  issuer: URL;
  /** The `iss` values taken as this issuer: as configured, and with/without the root path's `/`. */
  issuerIds: string[];
  resource: string;
  requiredScopes: string[];
  scopesSupported: string[];
  jwksUri?: URL;
  introspection?: Required<Omit<IntrospectionOptions, 'endpoint'>> & { endpoint?: URL };
  tokenCache?: TokenCache;
  clockSkewSec: number;
  accessTokenTypes: string[];
  algorithms: string[];
  jwksCacheMaxAgeMs: number;
  jwksCooldownMs: number;
  httpTimeoutMs: number;
  maxTokenCacheEntries: number;
  maxCredentialBytes: number;
  dpop?: ResolvedDpopOptions;
  resourceMetadataUrl: string;
  metadata: Record<string, unknown>;
  fetch: typeof fetch;
  now: () => number;
}

function int(name: string, value: number | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`anywire/auth: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  return value;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for `http:` URLs on a loopback host (where plain HTTP is allowed). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.'));
}

/** Parses an authorization-server URL: https, or http on loopback only. */
export function serverUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`anywire/auth: ${name} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(url))
    throw new TypeError(`anywire/auth: ${name} must use https (http only on a loopback host): ${value}`);
  return url;
}

function strings(name: string, value: string[] | undefined, def: string[]): string[] {
  if (value === undefined) return def;
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || s === '' || /\s/.test(s)))
    throw new TypeError(`anywire/auth: ${name} must be an array of non-empty strings without spaces`);
  return [...value];
}

function algorithms(name: string, value: string[] | undefined): string[] {
  const list = strings(name, value, DEFAULT_ALGORITHMS);
  for (const alg of list)
    if (alg === 'none' || alg.startsWith('HS'))
      throw new TypeError(`anywire/auth: ${name} must list asymmetric algorithms only, got ${alg}`);
  return list;
}

/** The RFC 9728 well-known URL of a resource: `/.well-known/oauth-protected-resource` + its path. */
export function wellKnownMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** Applies defaults and validates; throws `TypeError`/`RangeError` naming the option. */
export function resolveOptions(o: OAuthResourceServerOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('anywire/auth: options are required');
  const issuer = serverUrl('issuer', o.issuer);
  let resource: URL;
  try {
    resource = new URL(o.resource);
  } catch {
    throw new TypeError(`anywire/auth: resource must be an absolute URL, got ${JSON.stringify(o.resource)}`);
  }
  if (resource.hash || o.resource.includes('#'))
    throw new TypeError('anywire/auth: resource must not have a fragment (RFC 8707 section 2)');
  const requiredScopes = strings('requiredScopes', o.requiredScopes, []);
  const issuerIds = [
    ...new Set([o.issuer, issuer.href, issuer.pathname === '/' ? issuer.origin : issuer.href]),
  ];
  const resolved: ResolvedOptions = {
    issuer,
    issuerIds,
    resource: o.resource,
    requiredScopes,
    scopesSupported: strings('scopesSupported', o.scopesSupported, requiredScopes),
    clockSkewSec: int('clockSkewSec', o.clockSkewSec, 60, 0, 3600),
    accessTokenTypes: strings('accessTokenTypes', o.accessTokenTypes, ['at+jwt']).map(normalizeTyp),
    algorithms: algorithms('algorithms', o.algorithms),
    jwksCacheMaxAgeMs: int('jwksCacheMaxAgeMs', o.jwksCacheMaxAgeMs, 600_000, 0, 86_400_000),
    jwksCooldownMs: int('jwksCooldownMs', o.jwksCooldownMs, 30_000, 0, 86_400_000),
    httpTimeoutMs: int('httpTimeoutMs', o.httpTimeoutMs, 5_000, 1, 300_000),
    maxTokenCacheEntries: int('maxTokenCacheEntries', o.maxTokenCacheEntries, 10_000, 0, 10_000_000),
    maxCredentialBytes: int('maxCredentialBytes', o.maxCredentialBytes, 16_384, 256, 1_048_576),
    resourceMetadataUrl: o.resourceMetadataUrl ?? wellKnownMetadataUrl(o.resource),
    metadata: { ...o.metadata },
    fetch: o.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args)),
    now: o.now ?? Date.now,
  };
  if (o.jwksUri !== undefined) resolved.jwksUri = serverUrl('jwksUri', o.jwksUri);
  if (o.tokenCache !== undefined) {
    if (typeof o.tokenCache?.get !== 'function' || typeof o.tokenCache.set !== 'function')
      throw new TypeError('anywire/auth: tokenCache must have get(key) and set(key, value, untilMs) methods');
    resolved.tokenCache = o.tokenCache;
  }
  if (o.introspection) {
    const i = o.introspection;
    if (typeof i.clientId !== 'string' || !i.clientId || typeof i.clientSecret !== 'string')
      throw new TypeError('anywire/auth: introspection needs clientId and clientSecret');
    const authMethod = i.authMethod ?? 'client_secret_basic';
    if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post')
      throw new TypeError(
        'anywire/auth: introspection.authMethod must be client_secret_basic or client_secret_post',
      );
    resolved.introspection = {
      clientId: i.clientId,
      clientSecret: i.clientSecret,
      authMethod,
      cacheTtlMs: int('introspection.cacheTtlMs', i.cacheTtlMs, 60_000, 0, 86_400_000),
      maxCacheEntries: int('introspection.maxCacheEntries', i.maxCacheEntries, 10_000, 0, 10_000_000),
    };
    if (i.endpoint !== undefined)
      resolved.introspection.endpoint = serverUrl('introspection.endpoint', i.endpoint);
  }
  if (o.dpop) {
    const d = o.dpop;
    resolved.dpop = {
      required: d.required === true,
      nonce: d.nonce === true,
      contentDigest: d.contentDigest === true,
      nonceLifetimeSec: int('dpop.nonceLifetimeSec', d.nonceLifetimeSec, 300, 1, 86_400),
      iatWindowSec: int('dpop.iatWindowSec', d.iatWindowSec, 300, 1, 3600),
      maxReplayEntries: int('dpop.maxReplayEntries', d.maxReplayEntries, 100_000, 1, 10_000_000),
      algorithms: algorithms('dpop.algorithms', d.algorithms),
    };
    if (d.replayCache !== undefined) {
      if (typeof d.replayCache?.checkAndStore !== 'function')
        throw new TypeError('anywire/auth: dpop.replayCache must have a checkAndStore(key, untilMs) method');
      resolved.dpop.replayCache = d.replayCache;
    }
  }
  return resolved;
}

/** `application/at+jwt` and `AT+JWT` both become `at+jwt` (RFC 7515 section 4.1.9). */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
