/**
 * Opaque access tokens: RFC 7662 introspection (oauth4webapi), answers cached for
 * `introspection.cacheTtlMs` (never past `exp`) in a bounded cache keyed by the token's SHA-256.
 * An active token must name this resource in `aud` (RFC 8707; MCP servers "MUST only accept tokens
 * specifically intended for themselves"), and its `iss`, when present, must be the issuer.
 * With a shared `tokenCache`, the authorization server's answer (its claims, and when it was asked)
 * is kept there too, under the SHA-256 of the issuer and the token, and judged again by each
 * process that reads it (audience, issuer, `exp`, `nbf` against its own options and clock).
 * @module
 */
import * as oauth from 'oauth4webapi';
import type { AuthInfo } from '../protocol/types.js';
import type { Challenges } from './challenges.js';
import { authInfoOf } from './claims.js';
import type { AuthorizationServerMetadata, HttpSettings } from './discovery.js';
import { requestOptions } from './discovery.js';
import { sha256Base64Url } from './encoding.js';
import { ExpiringCache } from './expiring-cache.js';
import type { ResolvedOptions } from './options.js';
import { serverUrl } from './options.js';

/** Introspects opaque tokens for one resource server. */
export class Introspector {
  readonly #o: ResolvedOptions;
  readonly #i: NonNullable<ResolvedOptions['introspection']>;
  readonly #challenges: Challenges;
  readonly #metadata: AuthorizationServerMetadata;
  readonly #http: HttpSettings;
  /** An `AuthInfo` for an active token, or why it was refused. */
  readonly #cache: ExpiringCache<AuthInfo | string>;
  readonly #inflight = new Map<string, Promise<AuthInfo | string>>();

  constructor(options: ResolvedOptions, challenges: Challenges, metadata: AuthorizationServerMetadata) {
    this.#o = options;
    this.#i = options.introspection!;
    this.#challenges = challenges;
    this.#metadata = metadata;
    this.#http = { fetch: options.fetch, httpTimeoutMs: options.httpTimeoutMs, now: options.now };
    this.#cache = new ExpiringCache(this.#i.maxCacheEntries, options.now);
  }

  /**
   * Verifies `token` (whose SHA-256 is `key`). Throws the {@link AuthError} 401 `invalid_token` when
   * it is inactive or not for this resource, or a plain `Error` when introspection fails.
   */
  async verify(token: string, key: string): Promise<AuthInfo> {
    let verdict = this.#cache.get(key);
    if (verdict === undefined) {
      let pending = this.#inflight.get(key);
      if (!pending) {
        pending = this.#resolve(token, key).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      verdict = await pending;
    }
    if (typeof verdict === 'string') throw this.#challenges.invalidToken(verdict);
    if (verdict.expiresAt !== undefined && verdict.expiresAt + this.#o.clockSkewSec <= this.#o.now() / 1000)
      throw this.#challenges.invalidToken('token expired');
    return verdict;
  }

  /** The shared cache's answer when it has a fresh one, else the authorization server's. */
  async #resolve(token: string, key: string): Promise<AuthInfo | string> {
    const shared = this.#o.tokenCache;
    if (!shared || this.#i.cacheTtlMs === 0) return this.#introspect(token, key);
    const sharedKey = await sha256Base64Url(`${this.#o.issuer.href}\n${token}`);
    let stored: string | undefined;
    try {
      stored = (await shared.get(sharedKey)) ?? undefined;
    } catch {
      // A cache that cannot answer is a miss: the authorization server is asked (documented).
      stored = undefined;
    }
    const answer = parseSharedAnswer(stored);
    if (answer) {
      const now = this.#o.now();
      const untilMs = this.#untilMs(answer.atMs, answer.claims, now);
      if (untilMs > now) {
        const verdict = this.#judge(token, answer.claims, now / 1000);
        this.#cache.set(key, verdict, untilMs);
        return verdict;
      }
    }
    return this.#introspect(token, key, sharedKey);
  }

  /** Until when an answer got at `atMs` may be reused: `cacheTtlMs` after it, never past `exp`. */
  #untilMs(atMs: number, claims: Record<string, unknown>, now: number): number {
    let untilMs = Math.min(atMs, now) + this.#i.cacheTtlMs;
    if (claims.active === true && typeof claims.exp === 'number')
      untilMs = Math.min(untilMs, claims.exp * 1000);
    return untilMs;
  }

  async #introspect(token: string, key: string, sharedKey?: string): Promise<AuthInfo | string> {
    const endpoint = this.#i.endpoint ?? (await this.#endpoint());
    const as: oauth.AuthorizationServer = {
      issuer: this.#o.issuer.href,
      introspection_endpoint: endpoint.href,
    };
    const client: oauth.Client = { client_id: this.#i.clientId };
    const auth =
      this.#i.authMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(this.#i.clientSecret)
        : oauth.ClientSecretBasic(this.#i.clientSecret);
    let claims: oauth.IntrospectionResponse;
    try {
      const response = await oauth.introspectionRequest(
        as,
        client,
        auth,
        token,
        requestOptions(endpoint, this.#http),
      );
      claims = await oauth.processIntrospectionResponse(as, client, response);
    } catch (error) {
      throw new Error(`anywire/auth: introspection at ${endpoint.href} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const now = this.#o.now();
    const verdict = this.#judge(token, claims as unknown as Record<string, unknown>, now / 1000);
    let untilMs = now + this.#i.cacheTtlMs;
    if (typeof verdict !== 'string' && verdict.expiresAt !== undefined)
      untilMs = Math.min(untilMs, verdict.expiresAt * 1000);
    this.#cache.set(key, verdict, untilMs);
    if (sharedKey !== undefined && untilMs > now) {
      const sharedUntilMs = this.#untilMs(now, claims as unknown as Record<string, unknown>, now);
      try {
        // The answer as the authorization server gave it (it never holds the token itself).
        await this.#o.tokenCache!.set(sharedKey, JSON.stringify({ at: now, claims }), sharedUntilMs);
      } catch {
        // Kept by this process only; the others introspect (documented on `tokenCache`).
      }
    }
    return verdict;
  }

  #judge(token: string, claims: Record<string, unknown>, nowSec: number): AuthInfo | string {
    if (claims.active !== true) return 'token inactive (revoked, expired or unknown)';
    if (claims.iss !== undefined && !this.#o.issuerIds.includes(claims.iss as string))
      return 'token not issued by the expected issuer (iss)';
    const aud = claims.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(this.#o.resource)) return 'token not issued for this resource (aud)';
    const skew = this.#o.clockSkewSec;
    if (typeof claims.exp === 'number' && claims.exp + skew <= nowSec) return 'token expired';
    if (typeof claims.nbf === 'number' && claims.nbf - skew > nowSec) return 'token not yet valid (nbf)';
    return authInfoOf(token, this.#o.resource, claims);
  }

  async #endpoint(): Promise<URL> {
    const as = await this.#metadata.get();
    if (typeof as.introspection_endpoint !== 'string')
      throw new Error(`anywire/auth: the metadata of ${this.#o.issuer.href} has no introspection_endpoint`);
    return serverUrl('introspection_endpoint', as.introspection_endpoint);
  }
}

/** A shared answer `{ at, claims }` as this module writes it, or `undefined` for anything else. */
function parseSharedAnswer(
  text: string | undefined,
): { atMs: number; claims: Record<string, unknown> } | undefined {
  if (typeof text !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { at, claims } = value as { at?: unknown; claims?: unknown };
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
  return { atMs: at, claims: claims as Record<string, unknown> };
}
