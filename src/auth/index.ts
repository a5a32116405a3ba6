/**
 * `anywire/auth`: the OAuth 2.1 resource server (JWT and introspected access tokens, RFC 8707
 * audiences, DPoP, certificate-bound tokens), RFC 9728 protected resource metadata, and scope
 * middleware. Runtime-neutral (Web Crypto, fetch, jose, oauth4webapi).
 * @module
 */
export { OAuthResourceServer, oauthResourceServer } from './resource-server.js';
export type { DpopOptions, IntrospectionOptions, OAuthResourceServerOptions } from './options.js';
export { wellKnownMetadataUrl } from './options.js';
export { Challenges } from './challenges.js';
export type { ProtectedResourceMetadata, MetadataSource } from './metadata.js';
export {
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataPaths,
} from './metadata.js';
export { normalizeHtu } from './dpop.js';
export { InMemoryReplayCache } from './replay-cache.js';
export { DEFAULT_TOKEN_CACHE_MAX_ENTRIES, InMemoryTokenCache } from './token-cache.js';
export type { ReplayCache } from '../protocol/replay-cache.js';
export type { TokenCache } from '../protocol/token-cache.js';
export { AuthError } from '../protocol/auth.js';
export type { AuthRequest, Authenticator, AuthChallenge, CertificateIdentity } from '../protocol/auth.js';
export type {
  ScopeCheckOptions,
  ScopeContext,
  ScopeMiddleware,
  ToolScopeOptions,
  ToolSource,
} from './scopes.js';
export { requireScopes, toolScopes } from './scopes.js';
export type { WithOAuthOptions } from './web-handler.js';
export { authErrorHttpResponse, withOAuth } from './web-handler.js';
export type { NodeLikeRequest, NodeLikeResponse, OAuthMiddlewareOptions } from './node-middleware.js';
export { oauthMiddleware } from './node-middleware.js';
