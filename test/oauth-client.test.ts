/**
 * The OAuth client (`anywire/client/auth`) against a real authorization server (node-oidc-provider)
 * and an anywire server behind a JWT-verifying resource server: the authorization code flow with
 * PKCE and the resource indicator (login and consent through the interaction API), refresh,
 * DPoP-bound tokens, a client-credentials machine client, and the option checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { InMemoryTokenStore, OAuthClientProvider } from '../src/client/auth/index.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import type { AuthorizationServer, ProtectedServer } from './oauth-client-fixtures.js';
import { startAuthorizationServer, startProtectedServer, userAgent } from './oauth-client-fixtures.js';

const REDIRECT = 'http://127.0.0.1:1/callback';
let as: AuthorizationServer | undefined;
let rs: ProtectedServer | undefined;

afterEach(async () => {
  await rs?.close();
  await as?.close();
  rs = undefined;
  as = undefined;
});

/** An authorization server and a protected server that trust each other. */
async function start(options: { accessTokenTtlSec?: number } = {}) {
  as = await startAuthorizationServer(() => rs!.url, options);
  rs = await startProtectedServer(() => as!.issuer);
  return { as, rs };
}

/** Connects a client through `provider`, calls `whoami`, closes, and returns what the server saw as the caller. */
async function whoami(url: string, provider: OAuthClientProvider): Promise<Record<string, unknown>> {
  const client = new Client({ name: 'oauth-test', version: '1.0.0' }, { probeTimeoutMs: 20_000 });
  await client.connect(new StreamableHttpClientTransport({ url, authProvider: provider }));
  try {
    const result = await client.callTool('whoami');
    const text = (result.content[0] as { text: string }).text;
    return JSON.parse(text) as Record<string, unknown>;
  } finally {
    await client.close();
  }
}

describe('OAuth client against node-oidc-provider', () => {
  it('authorization code + PKCE S256 + resource indicator after a 401, via dynamic registration; then a tool call', async () => {
    const { as, rs } = await start();
    const asked: URL[] = [];
    const provider = new OAuthClientProvider({
      redirectUrl: REDIRECT,
      redirect: (url) => {
        asked.push(url);
        return userAgent(REDIRECT)(url);
      },
      dpop: false,
    });
    const caller = await whoami(rs.url, provider);
    expect(caller.subject).toBe('alice');
    expect(caller.scopes).toContain('mcp:tools');
    expect(as.events.registrations).toBe(1);
    expect(asked).toHaveLength(1);
    const query = Object.fromEntries(asked[0]!.searchParams);
    expect(query).toMatchObject({
      code_challenge_method: 'S256',
      resource: rs.url,
      redirect_uri: REDIRECT,
      response_type: 'code',
    });
    // The challenge's scope, plus offline_access because the server lists it (SEP-2207).
    expect(query.scope!.split(' ').sort()).toEqual(['mcp:tools', 'offline_access']);
    expect(as.events.authorizations[0]).toMatchObject({ code_challenge_method: 'S256', resource: rs.url });
    expect(as.events.grants.map((g) => g.grant_type)).toEqual(['authorization_code']);
    expect(rs.seen.schemes).toContain('Bearer');
    const tokens = await provider.tokens(rs.url);
    expect(tokens).toMatchObject({ issuer: as.issuer, token_type: 'bearer', resource: rs.url });
    expect(tokens!.refresh_token).toBeTypeOf('string');
  });

  it('refreshes a token about to expire instead of asking the user again', async () => {
    const { as, rs } = await start({ accessTokenTtlSec: 60 });
    const store = new InMemoryTokenStore();
    const first = new OAuthClientProvider({
      redirectUrl: REDIRECT,
      redirect: userAgent(REDIRECT),
      dpop: false,
      store,
    });
    await whoami(rs.url, first);
    const before = await first.tokens(rs.url);
    // A second client sharing the store, whose margin makes the 60 s token "about to expire".
    let asked = 0;
    const second = new OAuthClientProvider({
      redirectUrl: REDIRECT,
      redirect: (url) => {
        asked++;
        return userAgent(REDIRECT)(url);
      },
      dpop: false,
      store,
      refreshMarginMs: 120_000,
    });
    const caller = await whoami(rs.url, second);
    expect(caller.subject).toBe('alice');
    expect(asked).toBe(0);
    expect(as.events.grants.map((g) => g.grant_type)).toContain('refresh_token');
    expect((await second.tokens(rs.url))!.access_token).not.toBe(before!.access_token);
  });

  it('DPoP (auto, the server advertises it): a bound token presented with a fresh proof per request', async () => {
    const { rs } = await start();
    const provider = new OAuthClientProvider({ redirectUrl: REDIRECT, redirect: userAgent(REDIRECT) });
    const caller = await whoami(rs.url, provider);
    expect(caller.subject).toBe('alice');
    const tokens = await provider.tokens(rs.url);
    expect(tokens!.token_type).toBe('dpop');
    expect(tokens!.dpop_jwk).toBeDefined();
    expect(rs.seen.schemes.every((s) => s === 'DPoP')).toBe(true);
    expect(rs.seen.dpopChecked).toBeGreaterThan(1);
  });

  it('client credentials: a machine client with client_secret_basic', async () => {
    const { as, rs } = await start();
    const provider = new OAuthClientProvider({
      grant: 'client_credentials',
      clientId: 'machine',
      clientSecret: 'machine-secret',
      dpop: false,
    });
    const caller = await whoami(rs.url, provider);
    expect(caller.clientId).toBe('machine');
    expect(as.events.grants.map((g) => g.grant_type)).toEqual(['client_credentials']);
    expect(as.events.registrations).toBe(0);
  });

  it('without a way to authorize, the request fails with a message naming the fix', async () => {
    const { rs } = await start();
    const provider = new OAuthClientProvider({ dpop: false });
    const client = new Client({ name: 'oauth-test', version: '1.0.0' }, { probeTimeoutMs: 20_000 });
    await expect(
      client.connect(new StreamableHttpClientTransport({ url: rs.url, authProvider: provider })),
    ).rejects.toThrow(/needs authorization: pass redirect and redirectUrl/);
  });
});

describe('OAuthClientProvider options', () => {
  it('rejects limits outside their range with a RangeError naming the option', () => {
    expect(() => new OAuthClientProvider({ maxStepUps: 9 })).toThrow(
      /maxStepUps must be an integer from 0 to 5/,
    );
    expect(() => new OAuthClientProvider({ refreshMarginMs: -1 })).toThrow(/refreshMarginMs/);
  });
});
