/**
 * DPoP (RFC 9449) at the resource server, with DPoP-bound access tokens minted by a real
 * authorization server: the proof's signature, htm, htu, iat, ath and key binding (cnf.jkt), the
 * jti replay cache, server nonces, and the Bearer downgrade of a bound token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, oauthResourceServer } from '../src/auth/index.js';
import type { DpopOptions } from '../src/auth/index.js';
import type { AuthRequest } from '../src/protocol/auth.js';
import { dpopProof, newDpopKey, startAuthServer } from './auth-provider.js';
import type { DpopKey, TestAuthServer } from './auth-provider.js';

const RESOURCE = 'https://mcp.example.test/mcp';
let as: TestAuthServer;
let key: DpopKey;
let token: string;

beforeAll(async () => {
  as = await startAuthServer();
  key = await newDpopKey();
  token = await as.token({ resource: RESOURCE, scope: 'mcp:read', dpop: key });
});
afterAll(async () => {
  await as?.[Symbol.asyncDispose]();
});

const rs = (dpop: DpopOptions = {}) =>
  oauthResourceServer({ issuer: as.issuer, resource: RESOURCE, jwksUri: `${as.issuer}/jwks`, dpop });

const request = (proof: string, extra: Partial<AuthRequest> = {}): AuthRequest => ({
  binding: 'http',
  headers: { authorization: `DPoP ${token}`, dpop: proof },
  httpMethod: 'POST',
  url: RESOURCE,
  ...extra,
});

const proof = (claims: Partial<Parameters<typeof dpopProof>[1]> = {}, k = key) =>
  dpopProof(k, { htm: 'POST', htu: RESOURCE, token, ...claims });

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the request to be refused').toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('DPoP', () => {
  it('admits a DPoP-bound token with a valid proof and reports the key binding', async () => {
    const info = await rs().authenticate(request(await proof()));
    expect(info).toMatchObject({ subject: 'machine', confirmation: { jkt: key.jkt } });
  });

  it('refuses a replayed proof', async () => {
    const server = rs();
    const p = await proof();
    await server.authenticate(request(p));
    const error = await refusal(server.authenticate(request(p)));
    expect(error.status).toBe(401);
    expect(error.challenge).toMatchObject({ scheme: 'DPoP', error: 'invalid_dpop_proof' });
    expect(error.challenge.error_description).toMatch(/replayed/);
  });

  it('refuses a proof for another URL or method, and accepts query strings and ws: for http:', async () => {
    const server = rs();
    const other = await refusal(
      server.authenticate(request(await proof({ htu: 'https://mcp.example.test/other' }))),
    );
    expect(other.challenge.error_description).toMatch(/htu/);
    const get = await refusal(server.authenticate(request(await proof({ htm: 'GET' }))));
    expect(get.challenge.error_description).toMatch(/htm/);
    await expect(
      server.authenticate(request(await proof(), { url: `${RESOURCE}?x=1` })),
    ).resolves.toBeDefined();
    // The WebSocket upgrade: a GET whose URL the binding reports as ws(s):.
    const ws = await proof({ htm: 'GET', htu: 'https://MCP.example.test:443/mcp' });
    await expect(
      server.authenticate(
        request(ws, { binding: 'websocket', httpMethod: 'GET', url: 'wss://mcp.example.test/mcp' }),
      ),
    ).resolves.toBeDefined();
  });

  it('refuses a Bearer downgrade of a DPoP-bound token', async () => {
    const error = await refusal(
      rs().authenticate({
        binding: 'http',
        headers: { authorization: `Bearer ${token}` },
        httpMethod: 'POST',
        url: RESOURCE,
      }),
    );
    expect(error.status).toBe(401);
    expect(error.challenge).toMatchObject({ scheme: 'DPoP', error: 'invalid_token' });
    expect(error.wwwAuthenticate).toMatch(/^DPoP error="invalid_token", .*algs="/);
    // Without DPoP support configured, a bound token is refused too.
    const plain = oauthResourceServer({
      issuer: as.issuer,
      resource: RESOURCE,
      jwksUri: `${as.issuer}/jwks`,
    });
    expect((await refusal(plain.authenticate(request(await proof())))).status).toBe(401);
  });

  it('refuses a proof signed by another key, for another token, too old, or missing', async () => {
    const server = rs();
    const stranger = await newDpopKey();
    const wrongKey = await refusal(server.authenticate(request(await proof({}, stranger))));
    expect(wrongKey.challenge.error_description).toMatch(/cnf.jkt/);
    const wrongToken = await refusal(server.authenticate(request(await proof({ token: 'another-token' }))));
    expect(wrongToken.challenge.error_description).toMatch(/ath/);
    const old = await refusal(
      server.authenticate(request(await proof({ iat: Math.floor(Date.now() / 1000) - 301 }))),
    );
    expect(old.challenge.error_description).toMatch(/iat/);
    const future = await refusal(
      server.authenticate(request(await proof({ iat: Math.floor(Date.now() / 1000) + 301 }))),
    );
    expect(future.challenge.error_description).toMatch(/iat/);
    const missing = await refusal(
      server.authenticate({
        binding: 'http',
        headers: { authorization: `DPoP ${token}` },
        httpMethod: 'POST',
        url: RESOURCE,
      }),
    );
    expect(missing.challenge.error).toBe('invalid_dpop_proof');
    const two = await refusal(server.authenticate(request(`${await proof()}, ${await proof()}`)));
    expect(two.challenge.error_description).toMatch(/exactly one/);
  });

  it('asks for a server nonce with use_dpop_nonce and DPoP-Nonce, then accepts the proof that carries it', async () => {
    const server = rs({ nonce: true });
    const first = await refusal(server.authenticate(request(await proof())));
    expect(first.status).toBe(401);
    expect(first.challenge.error).toBe('use_dpop_nonce');
    const nonce = first.headers['dpop-nonce'];
    expect(nonce).toMatch(/^[\w-]{22}$/);
    expect(server.dpopNonce()).toBe(nonce);
    await expect(server.authenticate(request(await proof({ nonce })))).resolves.toMatchObject({
      subject: 'machine',
    });
    expect(
      (await refusal(server.authenticate(request(await proof({ nonce: 'stale' }))))).challenge.error,
    ).toBe('use_dpop_nonce');
  });

  it('requires DPoP when configured: an unbound Bearer token is refused with a DPoP challenge', async () => {
    const unbound = await as.token({ resource: RESOURCE, scope: 'mcp:read' });
    const error = await refusal(
      rs({ required: true }).authenticate({
        binding: 'http',
        headers: { authorization: `Bearer ${unbound}` },
      }),
    );
    expect(error.wwwAuthenticate).toMatch(/^DPoP /);
    expect(error.challenge.error_description).toMatch(/required/);
  });

  it('keeps refusing replays when the replay cache overflows (older proofs are refused instead)', async () => {
    const server = rs({ maxReplayEntries: 2 });
    const now = Math.floor(Date.now() / 1000);
    const a = await proof({ iat: now - 3 });
    await server.authenticate(request(a));
    await server.authenticate(request(await proof({ iat: now - 2 })));
    await server.authenticate(request(await proof({ iat: now - 1 })));
    // `a` was evicted; its replay must still fail, and so must a fresh proof claiming an older iat.
    expect((await refusal(server.authenticate(request(a)))).challenge.error_description).toMatch(/replayed/);
    expect(await refusal(server.authenticate(request(await proof({ iat: now - 4 }))))).toBeInstanceOf(
      AuthError,
    );
    await expect(server.authenticate(request(await proof({ iat: now })))).resolves.toBeDefined();
  });

  it('binds a proof to the request body with the MCP profile content_digest', async () => {
    const body = '{"jsonrpc":"2.0","method":"tools/list","id":1}';
    const server = rs();
    const info = await server.authenticate(request(await proof({ body })));
    expect(info.extra?.dpopContentDigest).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
    await expect(server.verifyContentDigest(info, body)).resolves.toBeUndefined();
    await expect(server.verifyContentDigest(info, new TextEncoder().encode(body))).resolves.toBeUndefined();
    const tampered = await refusal(server.verifyContentDigest(info, body.replace('list', 'call')));
    expect(tampered.challenge).toMatchObject({ scheme: 'DPoP', error: 'invalid_dpop_proof' });
    // A plain RFC 9449 proof passes unless the profile is required; then the proof itself is refused.
    const plain = await server.authenticate(request(await proof()));
    await expect(server.verifyContentDigest(plain, body)).resolves.toBeUndefined();
    const strict = rs({ contentDigest: true });
    expect((await refusal(strict.authenticate(request(await proof())))).challenge.error_description).toMatch(
      /content_digest is required/,
    );
    const bound = await strict.authenticate(request(await proof({ body })));
    await expect(strict.verifyContentDigest(bound, body)).resolves.toBeUndefined();
  });
});
