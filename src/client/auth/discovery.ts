/**
 * Discovery for the OAuth client (2025-11-25 basic/authorization "Authorization Server Discovery"):
 * protected resource metadata (RFC 9728) from the challenge's `resource_metadata`, then the
 * path-suffixed and root well-known URLs; authorization server metadata (RFC 8414 and OpenID
 * Connect Discovery, path-inserted then path-appended); and the 2025-03-26 fallbacks (the MCP
 * server's origin as the authorization server, default endpoints when it publishes no metadata).
 * Responses are validated by oauth4webapi (`resource` and `issuer` must match).
 * @module
 */
import * as oauth from 'oauth4webapi';
import type { FetchLike } from './types.js';

/** How discovery reaches the network. */
export interface DiscoveryContext {
  /** The fetch for metadata requests. */
  fetch: FetchLike;
  /** Whether a plain-http URL may be used. */
  insecure: (url: URL) => boolean;
}

/** Marks authorization server metadata made up from the 2025-03-26 default endpoints. */
export const FALLBACK_METADATA = 'x-anywire-default-endpoints';

/** Thrown when metadata is found but may not be used (resource or issuer mismatch). */
export class OAuthDiscoveryError extends Error {
  override name = 'OAuthDiscoveryError';
}

/** What protected resource discovery found. */
export interface ResourceDiscovery {
  /** The resource metadata, or `undefined` for a 2025-03-26 server without any. */
  metadata: oauth.ResourceServer | undefined;
  /** The resource indicator to request tokens for (RFC 8707): the metadata's `resource`, else the server URL. */
  resource: string;
  /** The authorization server issuer to use. */
  issuer: string;
}

/** oauth4webapi options for `url`: our fetch, and plain http where allowed. */
export function requestOptions(
  ctx: DiscoveryContext,
  url: URL,
): { [oauth.customFetch]: FetchLike; [oauth.allowInsecureRequests]?: boolean } {
  return {
    [oauth.customFetch]: ctx.fetch,
    ...(ctx.insecure(url) ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

/** The canonical URI of an MCP server (RFC 8707 §2: no fragment, no query). */
export function canonicalResource(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * True when `resource` (from metadata) may stand for `serverUrl`: same origin, and its path is the
 * server's path or a parent of it (2025-11-25 basic/authorization "Resource Parameter").
 */
export function resourceCovers(resource: string, serverUrl: URL): boolean {
  let r: URL;
  try {
    r = new URL(resource);
  } catch {
    return false;
  }
  if (r.origin !== serverUrl.origin) return false;
  const base = r.pathname.endsWith('/') ? r.pathname : `${r.pathname}/`;
  return serverUrl.pathname === r.pathname || serverUrl.pathname.startsWith(base) || r.pathname === '/';
}

/** GETs `url` as JSON; `undefined` when it is not there (any non-200 answer or a network error). */
async function tryGet(ctx: DiscoveryContext, url: URL): Promise<Response | undefined> {
  try {
    oauth.checkProtocol(url, !ctx.insecure(url));
    const response = await ctx.fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
    if (response.status === 200) return response;
    await response.body?.cancel();
  } catch (error) {
    if (error instanceof oauth.OperationProcessingError) throw error;
  }
  return undefined;
}

/** Reads PRM from `response` and checks that its `resource` covers the server URL (RFC 9728 §3.3, §7.3). */
async function readResourceMetadata(response: Response, serverUrl: URL): Promise<oauth.ResourceServer> {
  let resource: unknown;
  try {
    resource = ((await response.clone().json()) as { resource?: unknown }).resource;
  } catch {
    resource = undefined;
  }
  if (typeof resource !== 'string' || !resourceCovers(resource, serverUrl))
    throw new OAuthDiscoveryError(
      `protected resource metadata names resource ${JSON.stringify(resource)}, which does not match ${canonicalResource(serverUrl)}`,
    );
  return oauth.processResourceDiscoveryResponse(new URL(resource), response);
}

/**
 * Finds the protected resource metadata of `serverUrl`: the challenge's `resource_metadata` URL
 * first, then `/.well-known/oauth-protected-resource/<path>`, then the root well-known URL.
 * Without any, the server is treated as a 2025-03-26 one: its origin is the authorization server.
 * @throws OAuthDiscoveryError when metadata names another resource or no authorization server
 */
export async function discoverResource(
  ctx: DiscoveryContext,
  serverUrl: URL,
  resourceMetadataUrl: string | undefined,
): Promise<ResourceDiscovery> {
  const candidates: URL[] = [];
  if (resourceMetadataUrl) {
    try {
      candidates.push(new URL(resourceMetadataUrl, serverUrl));
    } catch {
      // an unusable header value: fall back to the well-known locations
    }
  }
  const path = serverUrl.pathname.replace(/\/$/, '');
  if (path) candidates.push(new URL(`/.well-known/oauth-protected-resource${path}`, serverUrl.origin));
  candidates.push(new URL('/.well-known/oauth-protected-resource', serverUrl.origin));
  for (const url of candidates) {
    const response = await tryGet(ctx, url);
    if (!response) continue;
    const metadata = await readResourceMetadata(response, serverUrl);
    const issuer = metadata.authorization_servers?.[0];
    if (typeof issuer !== 'string')
      throw new OAuthDiscoveryError(
        `protected resource metadata at ${url.href} lists no authorization server`,
      );
    return { metadata, resource: metadata.resource, issuer };
  }
  return { metadata: undefined, resource: canonicalResource(serverUrl), issuer: serverUrl.origin };
}

/**
 * The metadata of the authorization server `issuer`: for an issuer with a path, RFC 8414
 * path-inserted, OIDC path-inserted, OIDC path-appended; without one, RFC 8414 then OIDC. The
 * `issuer` in the document must equal `issuer` (RFC 8414 §3.3). Without any document, the
 * 2025-03-26 default endpoints (`/authorize`, `/token`, `/register` at the issuer's origin).
 * @throws OAuthDiscoveryError when a document names another issuer
 */
export async function discoverAuthorizationServer(
  ctx: DiscoveryContext,
  issuer: string,
): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  const candidates = path
    ? [
        new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
        new URL(`/.well-known/openid-configuration${path}`, url.origin),
        new URL(`${path}/.well-known/openid-configuration`, url.origin),
      ]
    : [
        new URL('/.well-known/oauth-authorization-server', url.origin),
        new URL('/.well-known/openid-configuration', url.origin),
      ];
  for (const candidate of candidates) {
    const response = await tryGet(ctx, candidate);
    if (!response) continue;
    try {
      return await oauth.processDiscoveryResponse(url, response);
    } catch (error) {
      throw new OAuthDiscoveryError(
        `authorization server metadata at ${candidate.href} does not belong to ${issuer}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return {
    issuer,
    authorization_endpoint: new URL('/authorize', url.origin).href,
    token_endpoint: new URL('/token', url.origin).href,
    registration_endpoint: new URL('/register', url.origin).href,
    [FALLBACK_METADATA]: true,
  };
}
