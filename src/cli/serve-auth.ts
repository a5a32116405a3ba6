/**
 * `anywire serve --auth-issuer URL [--auth-resource URL] [--auth-scope S ...] [--auth-jwks URL]`:
 * an OAuth 2.1 resource server (`oauthResourceServer` from `anywire/auth`) as the authenticator of
 * every binding served (stdio excepted, as the spec says), with the RFC 9728 metadata on HTTP.
 * Bearer tokens and DPoP-bound tokens (RFC 9449, `Authorization: DPoP` with a proof) are accepted.
 * With `--redis`, the DPoP `jti` replay cache is the shared one of the stores, so a proof accepted
 * by one node is refused as replayed by every other.
 * @module
 */
import type { BindingFlags } from '../bindings/factory-types.js';
import type { Stores } from '../protocol/stores.js';

/** The `--auth-*` flags of `serve`. */
export interface ServeAuthFlags {
  authIssuer?: string;
  authResource?: string;
  authScope?: string[];
  authJwks?: string;
  http?: string;
  path?: string;
  tlsCert?: string;
}

/**
 * Builds the authenticator and well-known handler the flags ask for (nothing without
 * `--auth-issuer`). The resource defaults to the `--http` endpoint URL. `stores` are the node's
 * shared stores (`--redis`): their `dpopReplayCache` backs the DPoP `jti` check, and their
 * `tokenCache` shares introspection answers.
 * @throws Error when no resource URL can be derived
 */
export async function serveAuth(
  o: ServeAuthFlags,
  stores?: Pick<Stores, 'dpopReplayCache' | 'tokenCache'>,
): Promise<Pick<BindingFlags, 'authenticator' | 'wellKnown'>> {
  if (!o.authIssuer) return {};
  let resource = o.authResource;
  if (!resource) {
    if (!o.http)
      throw new Error('anywire: --auth-issuer needs --auth-resource (or --http to derive it from)');
    const hostPort = /^\d+$/.test(o.http) ? `127.0.0.1:${o.http}` : o.http.replace(/^:/, '127.0.0.1:');
    resource = `${o.tlsCert ? 'https' : 'http'}://${hostPort}${o.path ?? '/mcp'}`;
  }
  const { oauthResourceServer } = await import('../auth/index.js');
  const rs = oauthResourceServer({
    issuer: o.authIssuer,
    resource,
    requiredScopes: o.authScope?.length ? o.authScope : undefined,
    jwksUri: o.authJwks,
    dpop: stores?.dpopReplayCache ? { replayCache: stores.dpopReplayCache } : {},
    ...(stores?.tokenCache ? { tokenCache: stores.tokenCache } : {}),
  });
  return { authenticator: rs, wellKnown: (request) => rs.handleMetadataRequest(request) };
}
