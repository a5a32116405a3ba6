/**
 * The OAuth client against a deliberately small mock (one HTTP server playing both the MCP server
 * and the authorization server), for the behaviours a well-behaved authorization server never
 * shows: a wrong RFC 9207 `iss`, a resource that keeps asking for more scope, one that asks for a
 * scope already granted, metadata naming another issuer, protected resource metadata naming
 * another resource.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OAuthClientProvider, OAuthDiscoveryError, OAuthFlowError } from '../src/client/auth/index.js';

interface MockOptions {
  /** The `iss` the authorization endpoint sends back; default the issuer. */
  iss?: (issuer: string) => string;
  /** The metadata's `issuer`; default the real one. */
  metadataIssuer?: (issuer: string) => string;
  /** The PRM's `resource`; default the MCP URL. */
  resource?: (mcpUrl: string) => string;
  /** The answer to an authorized MCP request: 200, or 403 with this scope. */
  forbid?: (attempt: number) => string | undefined;
}

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

async function mock(options: MockOptions = {}) {
  const seen = { authorizations: [] as URLSearchParams[], tokenRequests: 0, authorized: 0 };
  let base = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, base);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const prm = `${base}/.well-known/oauth-protected-resource/mcp`;
    if (url.pathname === '/.well-known/oauth-protected-resource/mcp')
      return json(200, {
        resource: options.resource?.(`${base}/mcp`) ?? `${base}/mcp`,
        authorization_servers: [base],
      });
    if (url.pathname === '/.well-known/oauth-authorization-server')
      return json(200, {
        issuer: options.metadataIssuer?.(base) ?? base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/register`,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
    if (url.pathname === '/register') return json(201, { client_id: 'c1' });
    if (url.pathname === '/authorize') {
      seen.authorizations.push(url.searchParams);
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', 'code');
      back.searchParams.set('state', url.searchParams.get('state')!);
      back.searchParams.set('iss', options.iss?.(base) ?? base);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/token') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.tokenRequests++;
        const scope = new URLSearchParams(body).get('scope') ?? '';
        json(200, { access_token: `t${seen.tokenRequests}`, token_type: 'Bearer', expires_in: 3600, scope });
      });
      return;
    }
    if (!req.headers.authorization)
      return json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${prm}", scope="read"` });
    const wanted = options.forbid?.(++seen.authorized);
    if (wanted)
      return json(
        403,
        {},
        {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${wanted}", resource_metadata="${prm}"`,
        },
      );
    json(200, { jsonrpc: '2.0', id: 1, result: {} });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(() => server.close());
  return { url: `${base}/mcp`, seen };
}

/** A provider whose user agent approves at once (GET without following the redirect). */
function provider(extra: ConstructorParameters<typeof OAuthClientProvider>[0] = {}) {
  return new OAuthClientProvider({
    redirectUrl: 'http://127.0.0.1:1/callback',
    redirect: async (authorizationUrl) => {
      const r = await fetch(authorizationUrl, { redirect: 'manual' });
      return new URL(r.headers.get('location')!);
    },
    ...extra,
  });
}

const post = (f: ReturnType<OAuthClientProvider['wrapFetch']>, url: string) =>
  f(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });

describe('OAuth client against a misbehaving server', () => {
  it('authorizes after a 401 and retries the request once with the token', async () => {
    const m = await mock();
    const response = await post(provider().wrapFetch(fetch), m.url);
    expect(response.status).toBe(200);
    expect(m.seen.authorizations).toHaveLength(1);
    expect(m.seen.authorizations[0]!.get('scope')).toBe('read');
  });

  it('RFC 9207: an iss that differs from the issuer, even by a trailing slash, is refused before the token request', async () => {
    const m = await mock({ iss: (issuer) => `${issuer}/` });
    await expect(post(provider().wrapFetch(fetch), m.url)).rejects.toThrow(OAuthFlowError);
    expect(m.seen.tokenRequests).toBe(0);
  });

  it('metadata whose issuer is another one is refused, and its endpoints are never used', async () => {
    const m = await mock({ metadataIssuer: () => 'https://attacker.example.com' });
    await expect(post(provider().wrapFetch(fetch), m.url)).rejects.toThrow(OAuthDiscoveryError);
    expect(m.seen.authorizations).toHaveLength(0);
  });

  it('protected resource metadata for another resource is refused before any authorization', async () => {
    const m = await mock({ resource: () => 'https://evil.example.com/mcp' });
    await expect(post(provider().wrapFetch(fetch), m.url)).rejects.toThrow(/does not match/);
    expect(m.seen.authorizations).toHaveLength(0);
  });

  it('step-up: 403 insufficient_scope re-authorizes with the union of scopes, at most maxStepUps times', async () => {
    const m = await mock({ forbid: (n) => `s${n}` }); // always a new scope: it never ends by itself
    const response = await post(provider({ maxStepUps: 2 }).wrapFetch(fetch), m.url);
    expect(response.status).toBe(403);
    expect(m.seen.authorizations).toHaveLength(3);
    expect(m.seen.authorizations[1]!.get('scope')).toBe('read s1');
    expect(m.seen.authorizations[2]!.get('scope')).toBe('read s1 s2');
  });

  it('a 403 for a scope already held is answered as it is: no authorization loop', async () => {
    const m = await mock({ forbid: () => 'read' });
    const response = await post(provider().wrapFetch(fetch), m.url);
    expect(response.status).toBe(403);
    expect(m.seen.authorizations).toHaveLength(1);
  });
});
