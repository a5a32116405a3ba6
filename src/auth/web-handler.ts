/**
 * A web-standard guard for any `(Request, authInfo?) => Promise<Response>` MCP handler (anywire's
 * `createWebHandler`, on Hono, Deno, Bun, Workers or behind `@hono/node-server`): serves the RFC
 * 9728 metadata, authenticates every other request with the resource server, answers refusals with
 * their status, `WWW-Authenticate` and extra headers (`DPoP-Nonce`), checks the MCP DPoP profile's
 * `content_digest` against the body, and hands the principal to the handler.
 * @module
 */
import { AUTH_ERROR_CODE, AuthError } from '../protocol/auth.js';
import type { AuthInfo } from '../protocol/types.js';
import type { OAuthResourceServer } from './resource-server.js';

/** Options of {@link withOAuth}. */
export interface WithOAuthOptions {
  /** Where an authenticator failure that is not the caller's fault (authorization server down) is reported. */
  onerror?: (error: Error) => void;
}

/** A refusal as an HTTP response: status, challenge, the error's headers, a JSON-RPC error body (-32030). */
export function authErrorHttpResponse(error: AuthError): Response {
  const prefix = error.status === 403 ? 'Forbidden' : 'Unauthorized';
  const data: Record<string, unknown> = { status: error.status, wwwAuthenticate: error.wwwAuthenticate };
  if (error.challenge.error !== undefined) data.error = error.challenge.error;
  const body = {
    jsonrpc: '2.0',
    id: null,
    error: { code: AUTH_ERROR_CODE, message: `${prefix}: ${error.message}`, data },
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: {
      ...error.headers,
      'www-authenticate': error.wwwAuthenticate,
      'content-type': 'application/json',
      'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce',
    },
  });
}

/**
 * Wraps `handler` so that only authorized requests reach it (with their `AuthInfo`). `OPTIONS`
 * (CORS preflight, which carries no credentials) passes through unauthenticated; the RFC 9728
 * metadata paths are answered by `auth.handleMetadataRequest`.
 * @example
 * const mcp = createWebHandler(server);
 * app.all('*', (c) => withOAuth(auth, mcp)(c.req.raw));
 */
export function withOAuth(
  auth: OAuthResourceServer,
  handler: (request: Request, authInfo?: AuthInfo) => Promise<Response>,
  options: WithOAuthOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    const metadata = auth.handleMetadataRequest(request);
    if (metadata) return metadata;
    if (request.method === 'OPTIONS') return handler(request);
    const headers: Record<string, string> = Object.create(null);
    request.headers.forEach((value, name) => (headers[name] = value));
    const url = new URL(request.url);
    url.search = '';
    url.hash = '';
    let authInfo: AuthInfo;
    try {
      authInfo = await auth.authenticate({
        binding: 'http',
        headers,
        httpMethod: request.method,
        url: url.href,
      });
      // The MCP DPoP profile binds the proof to the body: check it before the handler reads it.
      if (typeof authInfo.extra?.dpopContentDigest === 'string')
        await auth.verifyContentDigest(authInfo, new Uint8Array(await request.clone().arrayBuffer()));
      else if (authInfo.confirmation?.jkt) await auth.verifyContentDigest(authInfo, new Uint8Array(0));
    } catch (error) {
      if (error instanceof AuthError) return authErrorHttpResponse(error);
      options.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return authErrorHttpResponse(
        new AuthError(401, 'the credentials could not be verified', {
          error: 'invalid_token',
          resource_metadata: auth.resourceMetadataUrl,
        }),
      );
    }
    return handler(request, authInfo);
  };
}
