/**
 * `OAuthClientProvider`: OAuth 2.1 for an MCP client (2025-11-25 and 2026-07-28
 * basic/authorization), plugged into the Streamable HTTP client transport as its `authProvider`.
 * It wraps the transport's fetch: requests carry the stored token (`Bearer`, or `DPoP` with a fresh
 * proof per request), a token close to expiry is refreshed first, and a 401 starts discovery and a
 * grant, after which the request is retried once; a 403 `insufficient_scope` re-authorizes with the
 * union of the scopes (bounded by `maxStepUps`); a `use_dpop_nonce` challenge is retried with the
 * server's nonce. Runtime-neutral: fetch and WebCrypto only.
 * @module
 */
import { exportJWK, generateKeyPair, importJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { resolveClient } from './client-identity.js';
import type { DiscoveryContext } from './discovery.js';
import { canonicalResource, discoverAuthorizationServer, discoverResource } from './discovery.js';
import type { GrantContext } from './grants.js';
import { authorizationCodeGrant, clientCredentialsGrant, jwtBearerGrant, refreshGrant } from './grants.js';
import type { Challenge } from './scopes.js';
import { challengeOf, challengesOfError, scopeCovered, selectScope } from './scopes.js';
import { InMemoryTokenStore, tokensKey } from './token-store.js';
import type {
  FetchLike,
  OAuthClientProviderOptions,
  StoredTokens,
  StoredValue,
  TokenStore,
} from './types.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Validates an integer option against its range. */
function ranged(name: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${v}`);
  return v;
}

/** Thrown when authorization is needed but the provider was given no way to obtain it. */
export class OAuthConfigurationError extends Error {
  override name = 'OAuthConfigurationError';
}

/**
 * An OAuth 2.1 client for one MCP server. Pass it as `authProvider` to
 * `StreamableHttpClientTransport`, or wrap any fetch with {@link OAuthClientProvider.wrapFetch}.
 *
 * Errors of a flow (discovery refused: OAuthDiscoveryError; no client identity:
 * OAuthRegistrationError; callback refused: OAuthFlowError; the authorization server's own errors:
 * oauth4webapi's ResponseBodyError) reject the request that needed authorization; the transport
 * reports them as a failed send.
 * @throws RangeError at construction for `maxStepUps` outside 0-5 or `refreshMarginMs` outside 0-600 000
 */
export class OAuthClientProvider {
  readonly #options: OAuthClientProviderOptions;
  readonly #store: TokenStore;
  readonly #ctx: DiscoveryContext;
  readonly #maxStepUps: number;
  readonly #refreshMarginMs: number;
  #serverUrl: URL | undefined;
  #authorizing: Promise<void> | undefined;
  #dpop: { keys: CryptoKeyPair; handle: oauth.DPoPHandle; jwk: StoredValue } | undefined;

  constructor(options: OAuthClientProviderOptions = {}) {
    this.#options = options;
    this.#maxStepUps = ranged('maxStepUps', options.maxStepUps, 2, 5);
    this.#refreshMarginMs = ranged('refreshMarginMs', options.refreshMarginMs, 30_000, 600_000);
    this.#store = options.store ?? new InMemoryTokenStore();
    const base = options.fetch ?? ((input: string | URL, init: RequestInit) => fetch(input, init));
    this.#ctx = {
      fetch: base,
      insecure: (url) => options.allowInsecureRequests === true || LOOPBACK.has(url.hostname),
    };
  }

  /** The tokens stored for `serverUrl` (default: the server this provider talks to), if any. */
  async tokens(serverUrl?: string | URL): Promise<StoredTokens | undefined> {
    const url = serverUrl === undefined ? this.#serverUrl : new URL(serverUrl);
    if (!url) return undefined;
    return (await this.#store.get(tokensKey(canonicalResource(url)))) as StoredTokens | undefined;
  }

  /** Forgets the tokens of `serverUrl` (the CLI's `logout`). */
  async forget(serverUrl: string | URL): Promise<void> {
    await this.#store.delete(tokensKey(canonicalResource(new URL(serverUrl))));
  }

  /** Returns `fetch` with authorization added (the transport's `authProvider` hook). */
  wrapFetch(fetch: FetchLike): FetchLike {
    return (input, init) => this.#fetch(fetch, new URL(input), init);
  }

  /**
   * Authorizes against `serverUrl` now, without waiting for a 401: discovery from the well-known
   * locations, then the configured grant. `challenge` may carry a scope or a metadata URL.
   */
  async authorize(serverUrl: string | URL, challenge?: Partial<Challenge>): Promise<StoredTokens> {
    this.#serverUrl ??= new URL(serverUrl);
    await this.#run({ scheme: 'bearer', ...challenge }, undefined, false);
    return (await this.tokens(serverUrl))!;
  }

  // ---- the request loop ---------------------------------------------------------------------

  async #fetch(fetch: FetchLike, url: URL, init: RequestInit): Promise<Response> {
    this.#serverUrl ??= url;
    let reauthorized = false;
    let nonceRetried = false;
    let stepUps = 0;
    for (;;) {
      if (this.#authorizing) await this.#authorizing.catch(() => {});
      const tokens = await this.#usableTokens();
      const { response, challenge } = await this.#send(fetch, url, init, tokens);
      if (response.status !== 401 && response.status !== 403) return response;
      if (tokens?.token_type === 'dpop' && challenge?.error === 'use_dpop_nonce' && !nonceRetried) {
        nonceRetried = true;
        await response.body?.cancel();
        continue;
      }
      if (response.status === 401 && !reauthorized) {
        reauthorized = true;
        await response.body?.cancel();
        await this.#authorizeOnce(challenge ?? { scheme: 'bearer' }, tokens, false);
        continue;
      }
      if (
        response.status === 403 &&
        challenge?.error === 'insufficient_scope' &&
        stepUps < this.#maxStepUps &&
        challenge.scope !== undefined &&
        !scopeCovered(challenge.scope, tokens?.scope)
      ) {
        stepUps++;
        await response.body?.cancel();
        await this.#authorizeOnce(challenge, tokens, true);
        continue;
      }
      return response;
    }
  }

  /** Sends one request with `tokens` (through oauth4webapi, which adds the DPoP proof and caches nonces). */
  async #send(
    fetch: FetchLike,
    url: URL,
    init: RequestInit,
    tokens: StoredTokens | undefined,
  ): Promise<{ response: Response; challenge: Challenge | undefined }> {
    if (!tokens) {
      const response = await fetch(url, init);
      const challenge =
        response.status === 401 || response.status === 403 ? await challengeOf(response) : undefined;
      return { response, challenge };
    }
    const dpop = tokens.token_type === 'dpop' ? (await this.#dpopFor(tokens)).handle : undefined;
    const through = (target: string, sent: { method: string; headers: Record<string, string> }) =>
      fetch(target, {
        ...init,
        method: sent.method,
        headers: sent.headers,
        body: init.body,
        redirect: init.redirect ?? 'follow',
      });
    try {
      const response = await oauth.protectedResourceRequest(
        tokens.access_token,
        init.method ?? 'GET',
        url,
        new Headers(init.headers),
        (init.body ?? null) as oauth.ProtectedResourceRequestBody,
        {
          [oauth.customFetch]: through,
          ...(this.#ctx.insecure(url) ? { [oauth.allowInsecureRequests]: true } : {}),
          ...(dpop ? { DPoP: dpop } : {}),
        },
      );
      return { response, challenge: undefined };
    } catch (error) {
      if (error instanceof oauth.WWWAuthenticateChallengeError)
        return { response: error.response, challenge: challengesOfError(error) };
      throw error;
    }
  }

  /** The stored tokens, refreshed first when they are about to expire; `undefined` when there are none usable. */
  async #usableTokens(): Promise<StoredTokens | undefined> {
    const tokens = await this.tokens();
    if (!tokens) return undefined;
    if (tokens.expires_at === undefined || Date.now() < tokens.expires_at - this.#refreshMarginMs)
      return tokens;
    if (tokens.refresh_token) {
      try {
        await this.#authorizeOnce({ scheme: 'bearer' }, tokens, false, true);
        return await this.tokens();
      } catch {
        // the refresh failed: a 401 will start a new authorization
      }
    }
    return Date.now() < tokens.expires_at ? tokens : undefined;
  }

  // ---- authorization ------------------------------------------------------------------------

  /** Runs one authorization at a time; concurrent requests wait for the running one. */
  async #authorizeOnce(
    challenge: Challenge,
    tokens: StoredTokens | undefined,
    stepUp: boolean,
    refreshOnly = false,
  ): Promise<void> {
    if (this.#authorizing) {
      await this.#authorizing;
      return;
    }
    this.#authorizing = (
      refreshOnly ? this.#refreshStored(tokens!) : this.#run(challenge, tokens, stepUp)
    ).finally(() => {
      this.#authorizing = undefined;
    });
    await this.#authorizing;
  }

  /** Refreshes `tokens` at the authorization server that issued them. */
  async #refreshStored(tokens: StoredTokens): Promise<void> {
    const as = await discoverAuthorizationServer(this.#ctx, tokens.issuer);
    const g = await this.#grantContext(
      as,
      tokens.resource ?? canonicalResource(this.#serverUrl!),
      tokens.scope,
      tokens,
    );
    await this.#save(g, await refreshGrant(g, tokens.refresh_token!), tokens);
  }

  /** Discovery, then refresh (same issuer, plain 401) or a new grant; stores the result. */
  async #run(challenge: Challenge, tokens: StoredTokens | undefined, stepUp: boolean): Promise<void> {
    const serverUrl = this.#serverUrl!;
    const discovered = await discoverResource(this.#ctx, serverUrl, challenge.resourceMetadata);
    const as = await discoverAuthorizationServer(this.#ctx, discovered.issuer);
    const sameIssuer = tokens !== undefined && tokens.issuer === as.issuer;
    if (!stepUp && sameIssuer && tokens.refresh_token && challenge.error !== 'insufficient_scope') {
      try {
        const g = await this.#grantContext(as, discovered.resource, tokens.scope, tokens);
        await this.#save(g, await refreshGrant(g, tokens.refresh_token), tokens);
        return;
      } catch {
        // the refresh token is no longer good: run the grant
      }
    }
    const grant = this.#options.grant ?? 'authorization_code';
    const scope = selectScope({
      override: this.#options.scope,
      challenged: challenge.scope,
      resourceScopes: discovered.metadata?.scopes_supported,
      previous: stepUp && sameIssuer ? tokens.scope : undefined,
      serverScopes: as.scopes_supported,
      offlineAccess: grant === 'authorization_code' && this.#options.offlineAccess !== false,
    });
    const { redirect, redirectUrl } = this.#options;
    if (grant === 'authorization_code' && (!redirect || redirectUrl === undefined))
      throw new OAuthConfigurationError(
        `${serverUrl.href} needs authorization: pass redirect and redirectUrl (or run \`anywire login\`)`,
      );
    const g = await this.#grantContext(as, discovered.resource, scope, undefined);
    let result: oauth.TokenEndpointResponse;
    if (grant === 'client_credentials') result = await clientCredentialsGrant(g);
    else if (grant === 'jwt_bearer') {
      const source = this.#options.assertion;
      if (source === undefined)
        throw new OAuthConfigurationError('the jwt_bearer grant needs the assertion option');
      const assertion =
        typeof source === 'string'
          ? source
          : await source({ issuer: as.issuer, resource: discovered.resource });
      result = await jwtBearerGrant(g, assertion);
    } else {
      result = await authorizationCodeGrant(g, String(redirectUrl), redirect!);
    }
    await this.#save(g, result, undefined);
  }

  /** The grant context: client identity at `as`, DPoP when chosen. */
  async #grantContext(
    as: oauth.AuthorizationServer,
    resource: string,
    scope: string | undefined,
    previous: StoredTokens | undefined,
  ): Promise<GrantContext> {
    const identity = await resolveClient(this.#ctx, as, this.#options, this.#store);
    const wanted = this.#options.dpop ?? 'auto';
    const offered = as.dpop_signing_alg_values_supported?.includes('ES256') === true;
    const useDpop = previous
      ? previous.token_type === 'dpop'
      : wanted === true || (wanted === 'auto' && offered);
    const dpop = useDpop ? (await this.#dpopFor(previous)).handle : undefined;
    return { ctx: this.#ctx, as, identity, resource, scope, dpop };
  }

  /** The DPoP key pair: the one the tokens are bound to, else this provider's (ES256, made on first use). */
  async #dpopFor(tokens: StoredTokens | undefined): Promise<{ handle: oauth.DPoPHandle; jwk: StoredValue }> {
    if (tokens?.dpop_jwk && (!this.#dpop || this.#dpop.jwk.x !== tokens.dpop_jwk.x)) {
      const jwk = tokens.dpop_jwk as { d?: string; [k: string]: unknown };
      const { d: _d, ...pub } = jwk;
      const privateKey = (await importJWK(jwk, 'ES256', { extractable: false })) as CryptoKey;
      const publicKey = (await importJWK(pub, 'ES256', { extractable: true })) as CryptoKey;
      const keys = { privateKey, publicKey };
      this.#dpop = { keys, handle: oauth.DPoP({}, keys), jwk };
    }
    if (!this.#dpop) {
      const keys = await generateKeyPair('ES256', { extractable: true });
      const jwk = (await exportJWK(keys.privateKey)) as StoredValue;
      this.#dpop = { keys, handle: oauth.DPoP({}, keys), jwk };
    }
    return this.#dpop;
  }

  /** Stores a token response for the server (keeping a refresh token the server did not rotate). */
  async #save(
    g: GrantContext,
    result: oauth.TokenEndpointResponse,
    previous: StoredTokens | undefined,
  ): Promise<void> {
    const tokens: StoredTokens = {
      issuer: g.as.issuer,
      access_token: result.access_token,
      token_type: result.token_type,
      client_id: g.identity.client.client_id,
      resource: g.resource,
    };
    const refresh = result.refresh_token ?? previous?.refresh_token;
    if (refresh) tokens.refresh_token = refresh;
    if (typeof result.expires_in === 'number') tokens.expires_at = Date.now() + result.expires_in * 1000;
    const scope = result.scope || g.scope; // RFC 6749 §5.1: no scope in the answer means the one requested
    if (scope) tokens.scope = scope;
    if (result.token_type === 'dpop' && this.#dpop) tokens.dpop_jwk = this.#dpop.jwk;
    await this.#store.set(tokensKey(canonicalResource(this.#serverUrl!)), { ...tokens });
    this.#options.log?.(`authorized at ${g.as.issuer} for ${g.resource}${scope ? ` (scope: ${scope})` : ''}`);
  }
}
