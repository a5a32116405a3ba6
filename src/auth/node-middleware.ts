/**
 * Connect/Express-style middleware for Node HTTP servers, in front of anywire's
 * `createNodeHandler` (which takes the principal from `req.auth`): serves the RFC 9728 metadata,
 * authenticates each request with the resource server, and answers refusals with their status,
 * `WWW-Authenticate` and extra headers (`DPoP-Nonce`). Written against structural request and
 * response shapes, so `anywire/auth` still imports no `node:` module. The MCP DPoP profile's
 * `content_digest` needs the raw body and is checked by {@link withOAuth} only; here a proof that
 * carries it is refused when `dpop.contentDigest` is required and otherwise not checked.
 * @module
 */
import { AuthError } from '../protocol/auth.js';
import type { AuthInfo } from '../protocol/types.js';
import type { OAuthResourceServer } from './resource-server.js';
import { authErrorHttpResponse } from './web-handler.js';

/** What the middleware reads of a Node request (`http.IncomingMessage`, Express `Request`). */
export interface NodeLikeRequest {
  method?: string;
  url?: string;
  /** Express: the URL before mounting stripped a prefix. */
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the middleware: the caller's principal. */
  auth?: AuthInfo;
}

/** What the middleware writes on a Node response. */
export interface NodeLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** Options of {@link oauthMiddleware}. */
export interface OAuthMiddlewareOptions {
  /**
   * The public origin requests are addressed to, for the DPoP `htu` (behind a proxy, what clients
   * see). Default: the origin of the resource server's `resource`.
   */
  publicOrigin?: string;
  /** Where an authenticator failure that is not the caller's fault is reported. */
  onerror?: (error: Error) => void;
}

/**
 * Middleware `(req, res, next)`: on success sets `req.auth` and calls `next()`; on refusal answers
 * 401/403 with the challenge and a JSON-RPC error body (-32030) and does not call `next`.
 * `OPTIONS` passes through unauthenticated (CORS preflight carries no credentials).
 * @example
 * app.use('/', oauthMiddleware(auth));
 * app.all('/mcp', createNodeHandler(server));
 */
export function oauthMiddleware(
  auth: OAuthResourceServer,
  options: OAuthMiddlewareOptions = {},
): (req: NodeLikeRequest, res: NodeLikeResponse, next: (error?: unknown) => void) => void {
  const origin = options.publicOrigin ?? new URL(auth.resource).origin;
  const send = async (res: NodeLikeResponse, response: Response) => {
    res.statusCode = response.status;
    response.headers.forEach((value, name) => res.setHeader(name, value));
    res.end(response.body === null ? undefined : await response.text());
  };
  return (req, res, next) => {
    const path = (req.originalUrl ?? req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const run = async () => {
      const metadata = auth.handleMetadataRequest(new Request(`${origin}${path}`, { method }));
      if (metadata) return send(res, metadata);
      if (method === 'OPTIONS') return next();
      const headers: Record<string, string> = Object.create(null);
      for (const [name, value] of Object.entries(req.headers))
        if (value !== undefined)
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      try {
        const authInfo = await auth.authenticate({
          binding: 'http',
          headers,
          httpMethod: method,
          url: `${origin}${path}`,
        });
        if (authInfo.confirmation?.jkt)
          await auth.verifyContentDigest({ ...authInfo, extra: {} }, new Uint8Array(0));
        req.auth = authInfo;
      } catch (error) {
        if (error instanceof AuthError) return send(res, authErrorHttpResponse(error));
        options.onerror?.(error instanceof Error ? error : new Error(String(error)));
        return send(
          res,
          authErrorHttpResponse(
            new AuthError(401, 'the credentials could not be verified', {
              error: 'invalid_token',
              resource_metadata: auth.resourceMetadataUrl,
            }),
          ),
        );
      }
      next();
    };
    run().catch(next);
  };
}
