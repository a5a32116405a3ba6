/**
 * Fixtures for the OAuth client tests: a real authorization server (node-oidc-provider on
 * 127.0.0.1 port 0: dynamic registration, resource indicators with JWT access tokens, DPoP,
 * refresh tokens, client credentials) whose login and consent the test completes through the
 * interaction API, and an anywire MCP server protected by a small resource server in front of it
 * (RFC 9728 metadata, `WWW-Authenticate` challenges, JWT verification against the provider's JWKS
 * with jose, DPoP proof checks).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  EmbeddedJWK,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import Provider from 'oidc-provider';
import { McpServer } from '../src/server/mcp-server.js';
import { createNodeHandler } from '../src/transports/streamable-http/node.js';
import type { AuthInfo } from '../src/protocol/types.js';

/** Listens on 127.0.0.1 port 0 and returns the server and its base URL. */
async function listen(listener: http.RequestListener): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** What the authorization server saw, for assertions. */
export interface AsEvents {
  authorizations: Record<string, unknown>[];
  grants: Record<string, unknown>[];
  registrations: number;
}

/** A running authorization server. */
export interface AuthorizationServer {
  issuer: string;
  provider: Provider;
  events: AsEvents;
  /** Registers a confidential client for client_credentials. */
  close(): Promise<void>;
}

/** Starts node-oidc-provider for `resource` (`mcp:tools` scope, JWT access tokens of `accessTokenTtlSec`). */
export async function startAuthorizationServer(
  resource: () => string,
  options: { accessTokenTtlSec?: number } = {},
): Promise<AuthorizationServer> {
  const ref: { provider?: Provider } = {};
  const events: AsEvents = { authorizations: [], grants: [], registrations: 0 };
  const { server, base } = await listen((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      void finishInteraction(ref.provider!, req, res).catch((error: Error) => {
        res.statusCode = 500;
        res.end(error.message);
      });
      return;
    }
    void ref.provider!.callback()(req, res);
  });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.privateKey)), alg: 'RS256', use: 'sig', kid: 'rs' },
    { ...(await exportJWK(ec.privateKey)), alg: 'ES256', use: 'sig', kid: 'es' },
  ];
  const provider = new Provider(base, {
    clients: [
      {
        client_id: 'machine',
        client_secret: 'machine-secret',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: keys as never },
    scopes: ['openid', 'offline_access'],
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource(),
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'mcp:tools',
          audience: resource(),
          accessTokenTTL: options.accessTokenTtlSec ?? 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  ref.provider = provider;
  provider.on('authorization.success', (ctx) => events.authorizations.push({ ...ctx.oidc.params }));
  provider.on('grant.success', (ctx) => events.grants.push({ ...ctx.oidc.params }));
  provider.on('registration_create.success', () => events.registrations++);
  return {
    issuer: base,
    provider,
    events,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The login and consent "pages": the user `alice` logs in, then grants what was asked (the OIDC
 * scopes and the resource's `mcp:tools`), through oidc-provider's interaction API.
 */
async function finishInteraction(provider: Provider, req: http.IncomingMessage, res: http.ServerResponse) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: 'alice' } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grant = details.grantId
    ? (await provider.Grant.find(details.grantId))!
    : new provider.Grant({
        accountId: details.session!.accountId,
        clientId: String(details.params.client_id),
      });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/**
 * A user agent for tests: follows the authorization server's redirects with a cookie jar (the
 * interaction pages answer at once) until one points at `redirectPrefix`, and returns it.
 */
export function userAgent(redirectPrefix: string): (url: URL) => Promise<URL> {
  return async (start) => {
    const jar = new Map<string, string>();
    let url = start;
    for (let hop = 0; hop < 20; hop++) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
      }
      const body = await response.text();
      const location = response.headers.get('location');
      if (!location)
        throw new Error(
          `the authorization server answered ${response.status} without a redirect: ${body.slice(0, 300)}`,
        );
      url = new URL(location, url);
      if (url.href.startsWith(redirectPrefix)) return url;
    }
    throw new Error('too many redirects');
  };
}

/** A protected anywire MCP server. */
export interface ProtectedServer {
  /** The MCP endpoint (`…/mcp`), also the resource identifier. */
  url: string;
  /** What the resource server saw: the Authorization schemes and the verified principals. */
  seen: { schemes: string[]; subjects: (string | undefined)[]; dpopChecked: number };
  close(): Promise<void>;
}

/**
 * Serves an anywire McpServer (tool `whoami` returns `ctx.authInfo`) at `/mcp`, behind a resource
 * server that publishes RFC 9728 metadata and accepts JWT access tokens of `issuer` for this
 * resource (Bearer, or DPoP with a valid proof), answering 401 with a challenge otherwise.
 */
export async function startProtectedServer(issuer: () => string): Promise<ProtectedServer> {
  const mcp = new McpServer({ name: 'protected', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'Returns the caller' }, (_args, ctx) =>
    JSON.stringify(ctx.authInfo ?? null),
  );
  const principals = new Map<string, AuthInfo>();
  const handler = createNodeHandler(mcp, {
    authenticate: (headers) => principals.get((headers.authorization ?? '').split(' ')[1] ?? ''),
  });
  const seen = { schemes: [] as string[], subjects: [] as (string | undefined)[], dpopChecked: 0 };
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  let url = '';
  const { server, base } = await listen((req, res) => {
    void (async () => {
      const path = new URL(req.url!, 'http://x').pathname;
      if (path === '/.well-known/oauth-protected-resource/mcp') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            resource: url,
            authorization_servers: [issuer()],
            scopes_supported: ['mcp:tools'],
          }),
        );
        return;
      }
      if (path !== '/mcp') {
        res.statusCode = 404;
        res.end();
        return;
      }
      const challenge = `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`;
      const [scheme, token] = (req.headers.authorization ?? '').split(' ');
      try {
        if (!token) throw new Error('no token');
        jwks ??= createRemoteJWKSet(new URL(`${issuer()}/jwks`));
        const { payload } = await jwtVerify(token, jwks, { issuer: issuer(), audience: url });
        const jkt = (payload.cnf as { jkt?: string } | undefined)?.jkt;
        if (jkt !== undefined || scheme?.toLowerCase() === 'dpop') {
          const proof = String(req.headers.dpop ?? '');
          const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', maxTokenAge: 300 });
          const thumbprint = await calculateJwkThumbprint(verified.protectedHeader.jwk as JWK);
          const ath = Buffer.from(
            await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)),
          ).toString('base64url');
          if (
            scheme !== 'DPoP' ||
            thumbprint !== jkt ||
            verified.payload.htm !== req.method ||
            verified.payload.htu !== url ||
            verified.payload.ath !== ath
          )
            throw new Error('bad DPoP proof');
          seen.dpopChecked++;
        }
        seen.schemes.push(scheme!);
        seen.subjects.push(payload.sub);
        principals.set(token, {
          token,
          clientId: String(payload.client_id ?? ''),
          scopes: String(payload.scope ?? '').split(' '),
          ...(payload.sub ? { subject: payload.sub } : {}),
          ...(payload.exp ? { expiresAt: payload.exp } : {}),
        } as AuthInfo);
      } catch {
        res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_token' }));
        return;
      }
      handler(req, res);
    })();
  });
  url = `${base}/mcp`;
  return { url, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A random suffix for names. */
export const nonce = () => randomUUID().slice(0, 8);
