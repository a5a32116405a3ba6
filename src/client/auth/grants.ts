/**
 * Token requests, all through oauth4webapi: the authorization code grant with PKCE S256, `state`,
 * the RFC 8707 `resource` and the RFC 9207 `iss` check; client credentials; the RFC 7523
 * jwt-bearer grant; refresh; and the RFC 8693 token exchange for an identity assertion
 * authorization grant (ID-JAG, enterprise-managed authorization). With a DPoP handle the token
 * requests carry proofs, and a `use_dpop_nonce` answer is retried once with the server's nonce
 * (RFC 9449 §8).
 * @module
 */
import * as oauth from 'oauth4webapi';
import type { ClientIdentity } from './client-identity.js';
import type { DiscoveryContext } from './discovery.js';
import { FALLBACK_METADATA, requestOptions } from './discovery.js';
import type { FetchLike, RedirectHandler } from './types.js';

/** The RFC 7523 jwt-bearer grant type. */
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Thrown when the authorization server's answer may not be used (bad callback, missing PKCE). */
export class OAuthFlowError extends Error {
  override name = 'OAuthFlowError';
}

/** Everything a token request needs. */
export interface GrantContext {
  /** How to reach the network. */
  ctx: DiscoveryContext;
  /** The authorization server. */
  as: oauth.AuthorizationServer;
  /** The client and its authentication. */
  identity: ClientIdentity;
  /** The resource indicator (RFC 8707). */
  resource: string;
  /** The scope to request, or none. */
  scope: string | undefined;
  /** The DPoP handle when tokens are to be DPoP-bound. */
  dpop: oauth.DPoPHandle | undefined;
}

/** Request options for a token endpoint call: fetch, insecure http where allowed, DPoP. */
function tokenOptions(
  g: GrantContext,
): oauth.TokenEndpointRequestOptions & { [oauth.customFetch]: FetchLike } {
  const endpoint = new URL(String(g.as.token_endpoint));
  return { ...requestOptions(g.ctx, endpoint), ...(g.dpop ? { DPoP: g.dpop } : {}) };
}

/** Runs `request` then `process`, once more when the server asked for a DPoP nonce. */
async function withNonceRetry(
  g: GrantContext,
  request: () => Promise<Response>,
  process: (response: Response) => Promise<oauth.TokenEndpointResponse>,
): Promise<oauth.TokenEndpointResponse> {
  try {
    return await process(await request());
  } catch (error) {
    if (g.dpop && oauth.isDPoPNonceError(error)) return process(await request());
    throw error;
  }
}

/** `resource` and `scope` as token request parameters. */
function baseParameters(g: GrantContext): Record<string, string> {
  return { resource: g.resource, ...(g.scope ? { scope: g.scope } : {}) };
}

/**
 * The authorization code grant (OAuth 2.1 §4.1 with PKCE S256): builds the authorization URL, lets
 * `redirect` drive the user agent, validates the callback (`state`, `error`, RFC 9207 `iss` by
 * simple string comparison) and exchanges the code.
 * @throws OAuthFlowError when the server does not support S256, or the callback is refused
 */
export async function authorizationCodeGrant(
  g: GrantContext,
  redirectUrl: string,
  redirect: RedirectHandler,
): Promise<oauth.TokenEndpointResponse> {
  const methods = g.as.code_challenge_methods_supported;
  if (g.as[FALLBACK_METADATA] !== true && !methods?.includes('S256'))
    throw new OAuthFlowError(
      `${g.as.issuer} does not advertise PKCE S256 (code_challenge_methods_supported)`,
    );
  if (typeof g.as.authorization_endpoint !== 'string')
    throw new OAuthFlowError(`${g.as.issuer} has no authorization endpoint`);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(g.as.authorization_endpoint);
  oauth.checkProtocol(url, !g.ctx.insecure(url));
  const params = url.searchParams;
  params.set('response_type', 'code');
  params.set('client_id', g.identity.client.client_id);
  params.set('redirect_uri', redirectUrl);
  params.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  params.set('code_challenge_method', 'S256');
  params.set('state', state);
  params.set('resource', g.resource);
  if (g.scope) params.set('scope', g.scope);
  if (g.dpop) params.set('dpop_jkt', await g.dpop.calculateThumbprint());
  const callback = await redirect(url);
  let answer: URLSearchParams;
  try {
    answer = oauth.validateAuthResponse(g.as, g.identity.client, callback, state);
  } catch (error) {
    throw new OAuthFlowError(`the authorization response was refused: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return withNonceRetry(
    g,
    () =>
      oauth.authorizationCodeGrantRequest(
        g.as,
        g.identity.client,
        g.identity.auth,
        answer,
        redirectUrl,
        verifier,
        {
          ...tokenOptions(g),
          additionalParameters: { resource: g.resource },
        },
      ),
    (response) => oauth.processAuthorizationCodeResponse(g.as, g.identity.client, response),
  );
}

/** The client credentials grant (OAuth 2.1 §4.2) with the client's own authentication. */
export function clientCredentialsGrant(g: GrantContext): Promise<oauth.TokenEndpointResponse> {
  return withNonceRetry(
    g,
    () =>
      oauth.clientCredentialsGrantRequest(
        g.as,
        g.identity.client,
        g.identity.auth,
        baseParameters(g),
        tokenOptions(g),
      ),
    (response) => oauth.processClientCredentialsResponse(g.as, g.identity.client, response),
  );
}

/** The RFC 7523 §2.1 jwt-bearer grant: `assertion` is exchanged for an access token; errors are not retried. */
export function jwtBearerGrant(g: GrantContext, assertion: string): Promise<oauth.TokenEndpointResponse> {
  return withNonceRetry(
    g,
    () =>
      oauth.genericTokenEndpointRequest(
        g.as,
        g.identity.client,
        g.identity.auth,
        JWT_BEARER,
        { ...baseParameters(g), assertion },
        tokenOptions(g),
      ),
    (response) => oauth.processGenericTokenEndpointResponse(g.as, g.identity.client, response),
  );
}

/** The refresh token grant (OAuth 2.1 §4.3), for the same resource. */
export function refreshGrant(g: GrantContext, refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  return withNonceRetry(
    g,
    () =>
      oauth.refreshTokenGrantRequest(g.as, g.identity.client, g.identity.auth, refreshToken, {
        ...tokenOptions(g),
        additionalParameters: { resource: g.resource },
      }),
    (response) => oauth.processRefreshTokenResponse(g.as, g.identity.client, response),
  );
}

/** Options of {@link requestIdJag}. */
export interface IdJagRequest {
  /** The identity provider's issuer identifier. */
  idpIssuer: string;
  /** The identity provider's token endpoint. */
  idpTokenEndpoint: string;
  /** The client id at the identity provider. */
  clientId: string;
  /** The client secret at the identity provider, if it is a confidential client. */
  clientSecret?: string;
  /** The user's ID token from the identity provider (the subject token). */
  idToken: string;
  /** The MCP authorization server's issuer (the audience of the grant). */
  audience: string;
  /** The MCP server's resource identifier. */
  resource: string;
  /** Scope to ask for, if any. */
  scope?: string;
  /** Fetch for the request. Default: the global fetch. */
  fetch?: FetchLike;
  /** Allow a plain-http identity provider (tests). Default false. */
  allowInsecureRequests?: boolean;
}

/**
 * Enterprise-managed authorization (SEP-990): exchanges the user's ID token at the identity
 * provider for an Identity Assertion JWT Authorization Grant (RFC 8693 token exchange,
 * `requested_token_type` `urn:ietf:params:oauth:token-type:id-jag`); the result is the assertion of a
 * jwt-bearer grant at the MCP authorization server.
 * @returns the ID-JAG (a JWT)
 * @throws oauth4webapi's ResponseBodyError when the identity provider refuses
 */
export async function requestIdJag(request: IdJagRequest): Promise<string> {
  const as: oauth.AuthorizationServer = {
    issuer: request.idpIssuer,
    token_endpoint: request.idpTokenEndpoint,
  };
  const client: oauth.Client = { client_id: request.clientId };
  const auth =
    request.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(request.clientSecret);
  const response = await oauth.genericTokenEndpointRequest(
    as,
    client,
    auth,
    'urn:ietf:params:oauth:grant-type:token-exchange',
    {
      subject_token: request.idToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience: request.audience,
      resource: request.resource,
      ...(request.scope ? { scope: request.scope } : {}),
    },
    {
      ...(request.fetch ? { [oauth.customFetch]: request.fetch } : {}),
      ...(request.allowInsecureRequests ? { [oauth.allowInsecureRequests]: true } : {}),
    },
  );
  const result = await oauth.processGenericTokenEndpointResponse(as, client, response, {
    recognizedTokenTypes: { n_a: () => {} },
  });
  return result.access_token;
}
