/**
 * JWT access tokens (RFC 9068): signature against the issuer's JWKS (jose `createRemoteJWKSet`:
 * cached for `jwksCacheMaxAgeMs`; an unknown `kid` refetches it, at most once per
 * `jwksCooldownMs`), `iss`, `aud` = this server's resource (RFC 8707), `exp`/`nbf` with
 * `clockSkewSec`, `typ` (RFC 9068 section 4), and an algorithm allow-list.
 * @module
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { AuthInfo } from '../protocol/types.js';
import type { Challenges } from './challenges.js';
import { authInfoOf } from './claims.js';
import type { AuthorizationServerMetadata } from './discovery.js';
import type { ResolvedOptions } from './options.js';
import { normalizeTyp, serverUrl } from './options.js';

/** Why a token was refused, for `error_description` (never the token itself). */
function describe(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'token not issued for this resource (aud)';
    if (error.claim === 'iss') return 'token not issued by the expected issuer (iss)';
    if (error.claim === 'nbf') return 'token not yet valid (nbf)';
    return `token claim check failed (${error.claim})`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'token key ambiguous';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  return 'token malformed';
}

/** Verifies JWT access tokens for one resource server. */
export class JwtVerifier {
  readonly #o: ResolvedOptions;
  readonly #challenges: Challenges;
  readonly #metadata: AuthorizationServerMetadata;
  #jwks?: JWTVerifyGetKey;
  #jwksPending?: Promise<JWTVerifyGetKey>;

  constructor(options: ResolvedOptions, challenges: Challenges, metadata: AuthorizationServerMetadata) {
    this.#o = options;
    this.#challenges = challenges;
    this.#metadata = metadata;
    if (options.jwksUri) this.#jwks = this.#remote(options.jwksUri);
  }

  #remote(url: URL): JWTVerifyGetKey {
    return createRemoteJWKSet(url, {
      cacheMaxAge: this.#o.jwksCacheMaxAgeMs,
      cooldownDuration: this.#o.jwksCooldownMs,
      timeoutDuration: this.#o.httpTimeoutMs,
      [customFetch]: this.#o.fetch,
    });
  }

  /** The key set: configured, or from `jwks_uri` of the issuer's metadata (discovered once). */
  async #keys(): Promise<JWTVerifyGetKey> {
    if (this.#jwks) return this.#jwks;
    this.#jwksPending ??= this.#metadata.get().then(
      (as) => {
        if (typeof as.jwks_uri !== 'string')
          throw new Error(`anywire/auth: the metadata of ${this.#o.issuer.href} has no jwks_uri`);
        this.#jwks = this.#remote(serverUrl('jwks_uri', as.jwks_uri));
        return this.#jwks;
      },
      (error: unknown) => {
        this.#jwksPending = undefined;
        throw error;
      },
    );
    return this.#jwksPending;
  }

  /**
   * Verifies `token`. Throws the {@link AuthError} 401 `invalid_token` for a bad token, or a plain
   * `Error` when the authorization server cannot be reached (a server-side problem).
   */
  async verify(token: string): Promise<AuthInfo> {
    const keys = await this.#keys();
    let payload: Record<string, unknown>;
    let typ: string | undefined;
    try {
      const verified = await jwtVerify(token, keys, {
        issuer: this.#o.issuerIds,
        audience: this.#o.resource,
        clockTolerance: this.#o.clockSkewSec,
        algorithms: this.#o.algorithms,
        requiredClaims: ['exp'],
        currentDate: new Date(this.#o.now()),
      });
      payload = verified.payload;
      typ = verified.protectedHeader.typ;
    } catch (error) {
      // The key set could not be fetched or parsed (generic JOSEError, timeout, network TypeError):
      // the authorization server's problem, not the caller's.
      if (
        error instanceof errors.JWKSTimeout ||
        error instanceof errors.JWKSInvalid ||
        (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
      )
        throw new Error(`anywire/auth: the JWKS of ${this.#o.issuer.href} is unavailable: ${error.message}`, {
          cause: error,
        });
      if (error instanceof errors.JOSEError) throw this.#challenges.invalidToken(describe(error));
      throw error;
    }
    const types = this.#o.accessTokenTypes;
    if (types.length && (typeof typ !== 'string' || !types.includes(normalizeTyp(typ))))
      throw this.#challenges.invalidToken(
        `token type ${JSON.stringify(typ ?? null)} is not an access token (RFC 9068)`,
      );
    return authInfoOf(token, this.#o.resource, payload);
  }
}
