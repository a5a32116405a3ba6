/**
 * The shapes of the OAuth client: what is stored, how the user agent is driven, and the options of
 * `OAuthClientProvider`. Runtime-neutral (no `node:` import).
 * @module
 */

/** The subset of `fetch` the OAuth client uses (the same shape as the HTTP transport's). */
export type FetchLike = (input: string | URL, init: RequestInit) => Promise<Response>;

/**
 * Where the OAuth client keeps what it obtained: tokens (key `tokens <resource>`) and dynamically
 * registered clients (key `client <issuer>`). Values are JSON objects; a store may persist them
 * (the CLI keeps them in a 0600 file). Every method may be sync or async.
 */
export interface TokenStore {
  /** The value stored under `key`, or `undefined`. */
  get(key: string): StoredValue | undefined | Promise<StoredValue | undefined>;
  /** Stores `value` under `key`, replacing what was there. */
  set(key: string, value: StoredValue): void | Promise<void>;
  /** Forgets `key` (no error when absent). */
  delete(key: string): void | Promise<void>;
}

/** A JSON object as kept by a {@link TokenStore}. */
export type StoredValue = { [key: string]: unknown };

/** What the client keeps for one protected resource (RFC 6749 §5.1 plus where it came from). */
export interface StoredTokens {
  /** The issuer identifier of the authorization server that minted the tokens. */
  issuer: string;
  /** The access token. */
  access_token: string;
  /** `Bearer` or `DPoP` (RFC 9449 §5). */
  token_type: string;
  /** The refresh token, when one was issued. */
  refresh_token?: string;
  /** When the access token expires, in ms since the epoch (from `expires_in`). */
  expires_at?: number;
  /** The scope the tokens were requested (or granted) with, space separated. */
  scope?: string;
  /** The client id the tokens were obtained with. */
  client_id?: string;
  /** The DPoP private key as a JWK, when the tokens are DPoP-bound (RFC 9449). */
  dpop_jwk?: StoredValue;
  /** The resource indicator (RFC 8707) the tokens are for. */
  resource?: string;
}

/** A client identity registered with one authorization server (RFC 7591 §3.2.1). */
export interface StoredClient {
  /** The issuer identifier of the authorization server it is registered with. */
  issuer: string;
  /** The client identifier. */
  client_id: string;
  /** The client secret, for confidential clients. */
  client_secret?: string;
  /** The token endpoint authentication method the server assigned, if any. */
  token_endpoint_auth_method?: string;
}

/**
 * Drives the user agent for the authorization code flow: sends the user to `authorizationUrl`
 * (a browser, or a direct GET for headless tests) and resolves with the redirect URL the
 * authorization server sent back (carrying `code`, `state` and maybe `iss`).
 */
export type RedirectHandler = (authorizationUrl: URL) => Promise<URL>;

/** Produces a JWT assertion for the RFC 7523 jwt-bearer grant, given the authorization server and resource. */
export type AssertionSource =
  string | ((context: { issuer: string; resource: string }) => Promise<string> | string);

/** How the client obtains tokens. */
export type GrantKind = 'authorization_code' | 'client_credentials' | 'jwt_bearer';

/** Options of `OAuthClientProvider`. */
export interface OAuthClientProviderOptions {
  /**
   * The grant: `authorization_code` (default; needs `redirect` and `redirectUrl`), `client_credentials`
   * (machine clients: `clientId` with `clientSecret` or `privateKey`), or `jwt_bearer` (RFC 7523;
   * workload identity or enterprise-managed authorization: needs `assertion`).
   */
  grant?: GrantKind;
  /** A pre-registered client id (tried first; 2025-11-25 basic/authorization "Client Registration"). */
  clientId?: string;
  /** The pre-registered client's secret (client_secret_basic or client_secret_post). */
  clientSecret?: string;
  /** A private key (CryptoKey, or PKCS#8 PEM) for private_key_jwt client authentication (RFC 7523 §2.2). */
  privateKey?: CryptoKey | string;
  /** The JWS algorithm of `privateKey` when given as PEM. Default `ES256`. */
  privateKeyAlgorithm?: string;
  /** Forces a token endpoint authentication method; default: chosen from the registration and the server metadata. */
  tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** An https URL of this client's metadata document, used as client_id where the server supports CIMD. */
  clientMetadataUrl?: string;
  /** Client metadata for dynamic registration (RFC 7591); `redirect_uris` and `grant_types` are filled in. */
  clientMetadata?: { client_name?: string; application_type?: 'native' | 'web'; [key: string]: unknown };
  /** The redirect URI registered for the authorization code flow (e.g. `http://127.0.0.1:PORT/callback`). */
  redirectUrl?: string | URL;
  /** Sends the user to the authorization URL and resolves with the redirect back; see {@link RedirectHandler}. */
  redirect?: RedirectHandler;
  /** The assertion for `grant: 'jwt_bearer'`. */
  assertion?: AssertionSource;
  /** A scope to request instead of the one selected from the challenge and the metadata. */
  scope?: string;
  /** Request `offline_access` (for a refresh token) when the authorization server lists it. Default true. */
  offlineAccess?: boolean;
  /** DPoP (RFC 9449): `true` always, `false` never, `auto` (default) when the server advertises it. */
  dpop?: boolean | 'auto';
  /** Where tokens and registrations are kept. Default: a new {@link InMemoryTokenStore}. */
  store?: TokenStore;
  /** The fetch used for metadata, registration and token requests. Default: the global `fetch`. */
  fetch?: FetchLike;
  /**
   * Allow plain-http authorization servers and metadata. Default: only for loopback hosts
   * (`localhost`, `127.0.0.1`, `[::1]`); everything else must be https.
   */
  allowInsecureRequests?: boolean;
  /** Re-authorizations for more scope (403 `insufficient_scope`) per request, 0-5. Default 1. */
  maxStepUps?: number;
  /** Margin in ms before `expires_in` at which a token is refreshed ahead of use, 0-600 000. Default 30 000. */
  refreshMarginMs?: number;
  /** Called with each message worth telling a user (e.g. the URL to open); default: silent. */
  log?: (message: string) => void;
}
