/**
 * A real OAuth 2.1 / OpenID Connect authorization server for the auth tests: node-oidc-provider on
 * 127.0.0.1 port 0, with resource indicators (JWT access tokens for the requested resource, opaque
 * ones for the `opaque-machine` client), client credentials, introspection, revocation and DPoP.
 * Its JWKS response is filtered to the "published" keys, so a test can rotate keys (sign with a
 * key the resource server has not seen yet) and count JWKS fetches.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { JWK, CryptoKey as JoseKey } from 'jose';

export const SCOPES = ['mcp:read', 'mcp:write', 'mcp:admin'];

export interface TokenRequest {
  clientId?: string;
  clientSecret?: string;
  resource: string;
  scope?: string;
  /** A DPoP key pair: the token is bound to it (cnf.jkt). */
  dpop?: DpopKey;
}

export interface DpopKey {
  privateKey: JoseKey;
  publicJwk: JWK;
  jkt: string;
}

export interface TestAuthServer extends AsyncDisposable {
  issuer: string;
  /** JWKS requests served so far. */
  readonly jwksRequests: number;
  /** Makes the second key public and signs new tokens with it. */
  rotate(): void;
  token(request: TokenRequest): Promise<string>;
  revoke(token: string, clientId?: string, clientSecret?: string): Promise<void>;
  /** The kid new tokens are signed with. */
  readonly kid: string;
  /**
   * Signs an access token with the provider's current key (claims the provider would not mint by
   * itself, such as an RFC 8705 `cnf.x5t#S256`): `iss`, `iat`, `exp` (+300 s) and `typ: at+jwt` are added.
   */
  sign(claims: Record<string, unknown>, typ?: string): Promise<string>;
}

export async function newDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/** A DPoP proof (RFC 9449 section 4.2). */
export async function dpopProof(
  key: DpopKey,
  claims: {
    htm: string;
    htu: string;
    token?: string;
    nonce?: string;
    iat?: number;
    jti?: string;
    /** The MCP DPoP profile's body binding: `sha-256=:<base64>:` of this body. */
    body?: string;
  },
): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: claims.htm,
    htu: claims.htu,
    jti: claims.jti ?? base64url.encode(crypto.getRandomValues(new Uint8Array(16))),
  };
  if (claims.token) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(claims.token));
    payload.ath = base64url.encode(new Uint8Array(digest));
  }
  if (claims.nonce) payload.nonce = claims.nonce;
  if (claims.body !== undefined) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(claims.body));
    payload.content_digest = `sha-256=:${Buffer.from(digest).toString('base64')}:`;
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .setIssuedAt(claims.iat)
    .sign(key.privateKey);
}

export async function startAuthServer(): Promise<TestAuthServer> {
  let handle: (req: any, res: any) => void = (_req, res) => res.end();
  let jwksRequests = 0;
  const keys: JWK[] = [];
  for (const kid of ['key-a', 'key-b']) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' });
  }
  const published = new Set(['key-a']);
  let signingKid = 'key-a';
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // oidc-provider ships no types; a non-literal specifier keeps it `any` without an ambient declaration.
  const { default: Provider } = await import('oidc-provider' as string);
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'machine',
        client_secret: 'machine-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
      {
        client_id: 'opaque-machine',
        client_secret: 'opaque-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
      { client_id: 'rs', client_secret: 'rs-secret', grant_types: [], redirect_uris: [], response_types: [] },
    ],
    jwks: { keys },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    ttl: { ClientCredentials: 300, AccessToken: 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => ({
          scope: SCOPES.join(' '),
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: client.clientId === 'opaque-machine' ? 'opaque' : 'jwt',
          jwt: { sign: { alg: 'ES256', kid: signingKid } },
        }),
      },
    },
  });
  const callback = provider.callback();
  handle = (req, res) => {
    if (req.url === '/jwks') {
      jwksRequests++;
      const body = JSON.stringify({
        keys: keys
          .filter((k) => published.has(k.kid!))
          .map(({ kty, crv, x, y, kid, alg, use }) => ({ kty, crv, x, y, kid, alg, use })),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    callback(req, res);
  };

  const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

  return {
    issuer,
    get jwksRequests() {
      return jwksRequests;
    },
    get kid() {
      return signingKid;
    },
    async sign(claims, typ = 'at+jwt') {
      const jwk = keys.find((k) => k.kid === signingKid)!;
      const key = await importJWK(jwk, 'ES256');
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ, kid: signingKid })
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime('300s')
        .sign(key);
    },
    rotate() {
      published.add('key-b');
      signingKid = 'key-b';
    },
    async token({ clientId = 'machine', clientSecret = 'machine-secret', resource, scope, dpop }) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource });
      if (scope) body.set('scope', scope);
      const headers: Record<string, string> = {
        authorization: basic(clientId, clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      };
      if (dpop) headers.dpop = await dpopProof(dpop, { htm: 'POST', htu: `${issuer}/token` });
      const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body });
      const json = (await res.json()) as Record<string, string>;
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(json)}`);
      return json.access_token!;
    },
    async revoke(token, clientId = 'opaque-machine', clientSecret = 'opaque-secret') {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          authorization: basic(clientId, clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      if (res.status !== 200) throw new Error(`revocation failed: ${res.status} ${await res.text()}`);
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
