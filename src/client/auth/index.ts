/**
 * `anywire/client/auth`: the OAuth 2.1 client of anywire (2025-11-25 and 2026-07-28
 * basic/authorization; RFC 9728, 8414, 8707, 7591, 9207, 9449, 7523). Pass an
 * {@link OAuthClientProvider} as `authProvider` to `StreamableHttpClientTransport`.
 * @module
 */
export type { ClientIdentity } from './client-identity.js';
export { OAuthRegistrationError, resolveClient } from './client-identity.js';
export type { ResourceDiscovery } from './discovery.js';
export {
  canonicalResource,
  discoverAuthorizationServer,
  discoverResource,
  OAuthDiscoveryError,
  resourceCovers,
} from './discovery.js';
export type { IdJagRequest } from './grants.js';
export { JWT_BEARER, OAuthFlowError, requestIdJag } from './grants.js';
export { OAuthClientProvider, OAuthConfigurationError } from './provider.js';
export type { Challenge, ScopeInputs } from './scopes.js';
export { challengeOf, selectScope } from './scopes.js';
export { clientKey, InMemoryTokenStore, tokensKey } from './token-store.js';
export type {
  AssertionSource,
  FetchLike,
  GrantKind,
  OAuthClientProviderOptions,
  RedirectHandler,
  StoredClient,
  StoredTokens,
  StoredValue,
  TokenStore,
} from './types.js';
