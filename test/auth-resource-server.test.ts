/**
 * The OAuth resource server against a real authorization server (node-oidc-provider on loopback):
 * JWT access tokens (RFC 9068) with the RFC 8707 audience, JWKS discovery and rotation, opaque
 * tokens by RFC 7662 introspection, certificate-bound tokens (RFC 8705), and the challenges each
 * refusal carries (RFC 6750 section 3, RFC 9728).
 */
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, oauthResourceServer } from '../src/auth/index.js';
import type { OAuthResourceServerOptions } from '../src/auth/index.js';
import type { AuthRequest } from '../src/protocol/auth.js';
import { startAuthServer } from './auth-provider.js';
import type { TestAuthServer } from './auth-provider.js';

const RESOURCE = 'https://mcp.example.test/mcp';
let as: TestAuthServer;

beforeAll(async () => {
  as = await startAuthServer();
});
afterAll(async () => {
  await as?.[Symbol.asyncDispose]();
});

const rs = (options: Partial<OAuthResourceServerOptions> = {}) =>
  oauthResourceServer({ issuer: as.issuer, resource: RESOURCE, ...options });

const bearer = (token: string, extra: Partial<AuthRequest> = {}): AuthRequest => ({
  binding: 'http',
  headers: { authorization: `Bearer ${token}` },
  httpMethod: 'POST',
  url: RESOURCE,
  ...extra,
});

/** The refusal of `promise`, asserted to be an AuthError. */
async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the request to be refused').toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('JWT access tokens', () => {
  it('admits a token minted for this resource and reports the principal', async () => {
    const server = rs({ requiredScopes: ['mcp:read'] });
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read mcp:write' });
    const info = await server.authenticate(bearer(token));
    expect(info).toMatchObject({
      token,
      subject: 'machine',
      clientId: 'machine',
      scopes: ['mcp:read', 'mcp:write'],
      resource: RESOURCE,
      expiresAt: decodeJwt(token).exp,
    });
    expect(info.claims?.iss).toBe(as.issuer);
    expect(info.confirmation).toBeUndefined();
    // A second call is answered from the cache, as a fresh copy.
    const again = await server.authenticate(bearer(token));
    expect(again).toEqual(info);
    expect(again).not.toBe(info);
  });

  it('discovers the JWKS from the issuer metadata, or uses jwksUri when given', async () => {
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    await expect(rs({ jwksUri: `${as.issuer}/jwks` }).authenticate(bearer(token))).resolves.toMatchObject({
      subject: 'machine',
    });
    await expect(rs().authenticate(bearer(token))).resolves.toMatchObject({ subject: 'machine' });
  });

  it('refuses an expired token with 401 invalid_token', async () => {
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    const exp = decodeJwt(token).exp!;
    const server = rs({ clockSkewSec: 30, now: () => (exp + 31) * 1000 });
    const error = await refusal(server.authenticate(bearer(token)));
    expect(error.status).toBe(401);
    expect(error.challenge).toMatchObject({ error: 'invalid_token', error_description: 'token expired' });
    // Within the skew it is still honoured.
    await expect(
      rs({ clockSkewSec: 30, now: () => (exp + 29) * 1000 }).authenticate(bearer(token)),
    ).resolves.toBeDefined();
  });

  it('stops honouring a cached token at exp', async () => {
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    const exp = decodeJwt(token).exp!;
    let now = Date.now();
    const server = rs({ clockSkewSec: 0, now: () => now });
    await server.authenticate(bearer(token));
    now = exp * 1000;
    expect((await refusal(server.authenticate(bearer(token)))).challenge.error).toBe('invalid_token');
  });

  it('refuses a token minted for another resource (RFC 8707)', async () => {
    const token = await as.token({ resource: 'https://other.example.test/mcp', scope: 'mcp:read' });
    const error = await refusal(rs().authenticate(bearer(token)));
    expect(error.status).toBe(401);
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="token not issued for this resource (aud)", ' +
        'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it('refuses a token signed by another key under the same kid', async () => {
    const genuine = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: as.kid })
      .sign(privateKey);
    const error = await refusal(rs().authenticate(bearer(forged)));
    expect(error.challenge).toMatchObject({
      error: 'invalid_token',
      error_description: 'token signature invalid',
    });
  });

  it('refuses unsigned and symmetric tokens, and ID-token-shaped JWTs (typ)', async () => {
    const claims = decodeJwt(await as.token({ resource: RESOURCE, scope: 'mcp:read' }));
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`;
    expect((await refusal(rs().authenticate(bearer(none)))).challenge.error).toBe('invalid_token');
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: as.kid })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await refusal(rs().authenticate(bearer(hs)))).challenge.error_description).toBe(
      'token algorithm not allowed',
    );
    // Signed by the authorization server, valid in every claim, but typ JWT (an ID token, say).
    const plain = await as.sign({ aud: RESOURCE, sub: 'machine' }, 'JWT');
    const error = await refusal(rs().authenticate(bearer(plain)));
    expect(error.challenge.error_description).toMatch(/not an access token/);
    await expect(
      rs({ accessTokenTypes: ['at+jwt', 'JWT'] }).authenticate(bearer(plain)),
    ).resolves.toBeDefined();
  });

  it('refetches the JWKS once for an unknown kid (key rotation), and no sooner than the cooldown', async () => {
    const server = rs({ jwksCooldownMs: 0 });
    const cooled = rs();
    const before = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    await server.authenticate(bearer(before));
    await cooled.authenticate(bearer(before));
    const fetched = as.jwksRequests;
    as.rotate();
    const after = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    // The resource server with the default 30 s cooldown has just fetched the JWKS: no refetch.
    expect((await refusal(cooled.authenticate(bearer(after)))).challenge.error_description).toBe(
      'token signed by an unknown key',
    );
    expect(as.jwksRequests).toBe(fetched);
    // Without a cooldown, the unknown kid triggers one refetch and the new key verifies.
    await expect(server.authenticate(bearer(after))).resolves.toMatchObject({ subject: 'machine' });
    expect(as.jwksRequests).toBe(fetched + 1);
    // The old key still verifies from the refreshed set, with no further fetch.
    await expect(server.authenticate(bearer(before))).resolves.toBeDefined();
    expect(as.jwksRequests).toBe(fetched + 1);
  });

  it('answers 403 insufficient_scope with the scopes to ask for', async () => {
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    const error = await refusal(rs({ requiredScopes: ['mcp:write'] }).authenticate(bearer(token)));
    expect(error.status).toBe(403);
    expect(error.challenge).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:read mcp:write' });
    expect(error.wwwAuthenticate).toContain('resource_metadata="https://mcp.example.test/');
  });

  it('challenges a request without credentials with resource_metadata and scope, no error code', async () => {
    const error = await refusal(
      rs({ requiredScopes: ['mcp:read', 'mcp:write'] }).authenticate({ binding: 'http', headers: {} }),
    );
    expect(error.status).toBe(401);
    expect(error.wwwAuthenticate).toBe(
      'Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write"',
    );
  });

  it('refuses a huge Authorization header, malformed credentials and other schemes with 401 invalid_request', async () => {
    const server = rs();
    for (const authorization of [
      `Bearer ${'a'.repeat(20_000)}`,
      'Bearer',
      'Bearer a b',
      'Basic dXNlcjpwYXNz',
      'Bearer ä',
    ]) {
      const error = await refusal(server.authenticate({ binding: 'http', headers: { authorization } }));
      expect(error.status).toBe(401);
      expect(error.challenge.error).toBe('invalid_request');
    }
    expect((await refusal(server.authenticate(bearer('not-a-jwt')))).challenge.error).toBe('invalid_token');
  });

  it('takes the token from the first message _meta on bindings without headers', async () => {
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    await expect(
      rs().authenticate({ binding: 'tcp', headers: {}, meta: { authorization: `Bearer ${token}` } }),
    ).resolves.toMatchObject({ subject: 'machine' });
  });

  it('reports an unreachable authorization server as a plain error, not as a bad token', async () => {
    const token = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    const server = oauthResourceServer({
      issuer: 'http://127.0.0.1:1',
      resource: RESOURCE,
      httpTimeoutMs: 2000,
    });
    const error = await server.authenticate(bearer(token)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/authorization server metadata/);
  });
});

describe('opaque tokens (RFC 7662 introspection)', () => {
  const introspection = { clientId: 'rs', clientSecret: 'rs-secret' };
  const opaque = (resource = RESOURCE) =>
    as.token({ clientId: 'opaque-machine', clientSecret: 'opaque-secret', resource, scope: 'mcp:read' });

  it('admits an active opaque token and refuses it once revoked', async () => {
    const server = rs({ introspection: { ...introspection, cacheTtlMs: 0 } });
    const token = await opaque();
    expect(token.split('.')).toHaveLength(1);
    await expect(server.authenticate(bearer(token))).resolves.toMatchObject({
      clientId: 'opaque-machine',
      scopes: ['mcp:read'],
      resource: RESOURCE,
    });
    await as.revoke(token);
    const error = await refusal(server.authenticate(bearer(token)));
    expect(error.status).toBe(401);
    expect(error.challenge.error_description).toMatch(/inactive/);
  });

  it('caches introspection answers for cacheTtlMs', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/token/introspection')) calls++;
      return fetch(input, init);
    };
    const server = rs({ introspection: { ...introspection, cacheTtlMs: 60_000 }, fetch: counting });
    const token = await opaque();
    await Promise.all([server.authenticate(bearer(token)), server.authenticate(bearer(token))]);
    await server.authenticate(bearer(token));
    expect(calls).toBe(1);
  });

  it('refuses an opaque token for another resource, and opaque tokens without introspection', async () => {
    const other = await opaque('https://other.example.test/mcp');
    const error = await refusal(rs({ introspection }).authenticate(bearer(other)));
    expect(error.challenge.error_description).toBe('token not issued for this resource (aud)');
    expect((await refusal(rs().authenticate(bearer(await opaque())))).challenge.error).toBe('invalid_token');
  });
});

describe('certificate-bound tokens (RFC 8705)', () => {
  const cert = (x5tS256: string) => ({
    subject: { CN: 'client' },
    issuer: { CN: 'ca' },
    subjectAltNames: [],
    fingerprint256: 'AA',
    x5tS256,
    serialNumber: '01',
    validFrom: '2026-01-01T00:00:00Z',
    validTo: '2027-01-01T00:00:00Z',
  });

  it('honours a bound token only over the certificate it is bound to', async () => {
    const token = await as.sign({
      aud: RESOURCE,
      sub: 'workload',
      client_id: 'machine',
      cnf: { 'x5t#S256': 'thumb-1' },
    });
    const server = rs();
    await expect(
      server.authenticate(bearer(token, { binding: 'tls', certificate: cert('thumb-1') })),
    ).resolves.toMatchObject({
      subject: 'workload',
      confirmation: { 'x5t#S256': 'thumb-1' },
    });
    const mismatch = await refusal(
      server.authenticate(bearer(token, { binding: 'tls', certificate: cert('thumb-2') })),
    );
    expect(mismatch.status).toBe(401);
    expect(mismatch.challenge.error).toBe('invalid_token');
    const without = await refusal(server.authenticate(bearer(token)));
    expect(without.challenge.error_description).toMatch(/without a client certificate/);
  });
});

describe('options', () => {
  it('validates at construction, naming the option', () => {
    expect(() => oauthResourceServer({ issuer: 'http://auth.example.test', resource: RESOURCE })).toThrow(
      /issuer must use https/,
    );
    expect(() => oauthResourceServer({ issuer: 'https://a.test', resource: 'mcp' })).toThrow(
      /resource must be an absolute URL/,
    );
    expect(() => oauthResourceServer({ issuer: 'https://a.test', resource: `${RESOURCE}#x` })).toThrow(
      /fragment/,
    );
    expect(() => rs({ clockSkewSec: -1 })).toThrow(RangeError);
    expect(() => rs({ clockSkewSec: -1 })).toThrow(/clockSkewSec/);
    expect(() => rs({ maxTokenCacheEntries: 1.5 })).toThrow(/maxTokenCacheEntries/);
    expect(() => rs({ dpop: { iatWindowSec: 0 } })).toThrow(/dpop.iatWindowSec/);
    expect(() => rs({ introspection: { clientId: 'rs', clientSecret: 'x', cacheTtlMs: -5 } })).toThrow(
      /introspection.cacheTtlMs/,
    );
    expect(() => rs({ algorithms: ['HS256'] })).toThrow(/asymmetric/);
    expect(() => rs({ requiredScopes: ['a b'] })).toThrow(/requiredScopes/);
  });
});
