/**
 * Authorization server metadata, fetched once and shared: RFC 8414 (`/.well-known/oauth-authorization-server`,
 * inserted before the issuer's path) first, then OpenID Connect Discovery 1.0
 * (`/.well-known/openid-configuration`). The document's `issuer` must equal the configured issuer
 * (RFC 8414 section 3.3; checked by oauth4webapi). A failed discovery is retried on a later request,
 * no sooner than `retryAfterMs`.
 * @module
 */
import * as oauth from 'oauth4webapi';
import { isLoopbackHttp } from './options.js';

/** What every request to the authorization server needs. */
export interface HttpSettings {
  fetch: typeof fetch;
  httpTimeoutMs: number;
  now: () => number;
}

/** Options for oauth4webapi requests: timeout, fetch, plain HTTP for loopback only. */
export function requestOptions(url: URL, http: HttpSettings) {
  return {
    signal: AbortSignal.timeout(http.httpTimeoutMs),
    [oauth.customFetch]: http.fetch,
    [oauth.allowInsecureRequests]: isLoopbackHttp(url),
  };
}

/** Lazily discovered authorization server metadata. */
export class AuthorizationServerMetadata {
  readonly #issuer: URL;
  readonly #http: HttpSettings;
  readonly #retryAfterMs: number;
  #pending?: Promise<oauth.AuthorizationServer>;
  #failedAtMs = 0;

  constructor(issuer: URL, http: HttpSettings, retryAfterMs: number) {
    this.#issuer = issuer;
    this.#http = http;
    this.#retryAfterMs = retryAfterMs;
  }

  /** The metadata; rejects with an `Error` naming the issuer when neither document is usable. */
  get(): Promise<oauth.AuthorizationServer> {
    if (this.#pending && !(this.#failedAtMs && this.#http.now() - this.#failedAtMs >= this.#retryAfterMs))
      return this.#pending;
    this.#failedAtMs = 0;
    this.#pending = this.#discover().catch((error: unknown) => {
      this.#failedAtMs = this.#http.now();
      throw error;
    });
    return this.#pending;
  }

  async #discover(): Promise<oauth.AuthorizationServer> {
    const problems: string[] = [];
    for (const algorithm of ['oauth2', 'oidc'] as const) {
      try {
        const response = await oauth.discoveryRequest(this.#issuer, {
          algorithm,
          ...requestOptions(this.#issuer, this.#http),
        });
        return await oauth.processDiscoveryResponse(this.#issuer, response);
      } catch (error) {
        problems.push(`${algorithm}: ${(error as Error).message}`);
      }
    }
    throw new Error(
      `anywire/auth: no usable authorization server metadata for ${this.#issuer.href} (${problems.join('; ')})`,
    );
  }
}
