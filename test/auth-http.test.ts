/**
 * The resource server on Streamable HTTP, end to end with a real authorization server
 * (node-oidc-provider): the RFC 9728 document at both well-known paths (the binding's `wellKnown`
 * hook, and `withOAuth` for web-standard servers), 401/403 with their challenges, DPoP proofs bound
 * to the URL and the body, and anywire's own OAuth client discovering everything from a 401 and
 * calling a tool with a client-credentials token, Bearer and DPoP-bound.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import {
  ClientCredentialsProvider,
  Client as SdkClient,
  StreamableHTTPClientTransport as SdkHttp,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthMiddleware, oauthResourceServer, toolScopes, withOAuth } from '../src/auth/index.js';
import type { OAuthResourceServer } from '../src/auth/index.js';
import { Client } from '../src/client/client.js';
import { OAuthClientProvider } from '../src/client/auth/index.js';
import { McpServer } from '../src/server/mcp-server.js';
import express from 'express';
import {
  createNodeHandler,
  createWebHandler,
  serveHttp,
  StreamableHttpClientTransport,
} from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';
import { dpopProof, newDpopKey, startAuthServer } from './auth-provider.js';
import type { TestAuthServer } from './auth-provider.js';
import { MODERN_META, modernToolCall } from './helpers.js';

function mcpServer(): McpServer {
  const server = new McpServer({ name: 'protected', version: '1.0.0' });
  server.registerTool('whoami', {}, (_args, ctx) =>
    JSON.stringify({
      subject: ctx.authInfo?.subject,
      scopes: ctx.authInfo?.scopes,
      cnf: ctx.authInfo?.confirmation,
    }),
  );
  return server;
}

describe('protected resource metadata through the wellKnown hook', () => {
  let srv: HttpServerHandle;
  beforeAll(async () => {
    const auth = oauthResourceServer({
      issuer: 'https://auth.example.test',
      resource: 'https://mcp.example.test/mcp',
      requiredScopes: ['mcp:tools'],
    });
    srv = await serveHttp(mcpServer(), { port: 0, wellKnown: auth.handleMetadataRequest });
  });
  afterAll(() => srv?.close());

  it('is served at the path-suffixed and the root well-known URLs', async () => {
    const origin = new URL(srv.url).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({
        resource: 'https://mcp.example.test/mcp',
        authorization_servers: ['https://auth.example.test'],
        scopes_supported: ['mcp:tools'],
        bearer_methods_supported: ['header'],
      });
    }
    const head = await fetch(`${origin}/.well-known/oauth-protected-resource`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    // Other well-known paths fall through to the binding (404 outside its MCP path).
    expect((await fetch(`${origin}/.well-known/other`)).status).toBe(404);
  });
});

describe('withOAuth: a protected web-standard MCP endpoint', () => {
  let as: TestAuthServer;
  let listener: Server;
  let url: string;
  let auth: OAuthResourceServer;

  beforeAll(async () => {
    as = await startAuthServer();
    const mcp = createWebHandler(mcpServer());
    let guarded: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
    listener = await new Promise<Server>((resolve) => {
      const s = honoServe(
        { fetch: (request: Request) => guarded(request), port: 0, hostname: '127.0.0.1' },
        () => resolve(s as unknown as Server),
      );
    });
    url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`;
    auth = oauthResourceServer({ issuer: as.issuer, resource: url, requiredScopes: ['mcp:read'], dpop: {} });
    guarded = withOAuth(auth, mcp);
  });
  afterAll(async () => {
    listener?.closeAllConnections();
    await new Promise((r) => listener?.close(r));
    await as?.[Symbol.asyncDispose]();
  });

  const modernCall = (headers: Record<string, string>) => modernToolCall(url, 'whoami', {}, { headers });
  /** The body modernCall sends (a DPoP proof may cover it). */
  const callBody = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'whoami', arguments: {}, _meta: MODERN_META },
  });
  const whoami = async (res: Response) => {
    expect(res.status).toBe(200);
    const json = (await res.json()) as { result: { content: { text: string }[] } };
    return JSON.parse(json.result.content[0]!.text);
  };

  it('challenges a request without a token with 401, resource_metadata and scope; the metadata is one GET away', async () => {
    const res = await modernCall({});
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toBe(
      `Bearer resource_metadata="${new URL(url).origin}/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`,
    );
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32030);
    const doc = await (await fetch(/resource_metadata="([^"]+)"/.exec(challenge)![1]!)).json();
    expect(doc).toMatchObject({ resource: url, authorization_servers: [as.issuer] });
  });

  it('admits a valid token and refuses expired-for-us, foreign, under-scoped and huge credentials with the right status', async () => {
    const token = await as.token({ resource: url, scope: 'mcp:read' });
    expect(await whoami(await modernCall({ authorization: `Bearer ${token}` }))).toEqual({
      subject: 'machine',
      scopes: ['mcp:read'],
    });
    const foreign = await as.token({ resource: 'https://elsewhere.test/mcp', scope: 'mcp:read' });
    const refused = await modernCall({ authorization: `Bearer ${foreign}` });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    const narrow = await as.token({ resource: url, scope: 'mcp:write' });
    const forbidden = await modernCall({ authorization: `Bearer ${narrow}` });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toMatch(
      /error="insufficient_scope".*scope="mcp:write mcp:read"/,
    );
    // Past Node's 16 KiB header limit the HTTP parser answers 431 before any of our code runs;
    // below it, our own maxCredentialBytes (16 KiB by default) or the token check refuses.
    const huge = await modernCall({ authorization: `Bearer ${'a'.repeat(20_000)}` });
    expect([401, 431]).toContain(huge.status);
    const large = await modernCall({ authorization: `Bearer ${'a'.repeat(12_000)}` });
    expect(large.status).toBe(401);
    expect(large.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // Other clients are still served.
    expect((await whoami(await modernCall({ authorization: `Bearer ${token}` }))).subject).toBe('machine');
  });

  it('checks DPoP proofs against the POST URL and the body, refuses replays and Bearer downgrades', async () => {
    const key = await newDpopKey();
    const token = await as.token({ resource: url, scope: 'mcp:read', dpop: key });
    const proof = await dpopProof(key, { htm: 'POST', htu: url, token, body: callBody });
    expect(await whoami(await modernCall({ authorization: `DPoP ${token}`, dpop: proof }))).toMatchObject({
      cnf: { jkt: key.jkt },
    });
    const replay = await modernCall({ authorization: `DPoP ${token}`, dpop: proof });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    const otherUrl = await dpopProof(key, { htm: 'POST', htu: `${url}/other`, token });
    expect((await modernCall({ authorization: `DPoP ${token}`, dpop: otherUrl })).status).toBe(401);
    const otherBody = await dpopProof(key, { htm: 'POST', htu: url, token, body: '{"other":true}' });
    const tampered = await modernCall({ authorization: `DPoP ${token}`, dpop: otherBody });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('www-authenticate')).toMatch(/content_digest does not match/);
    expect((await modernCall({ authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it("lets anywire's OAuth client discover, obtain a client-credentials token (Bearer and DPoP) and call a tool", async () => {
    for (const dpop of [false, true]) {
      const provider = new OAuthClientProvider({
        grant: 'client_credentials',
        clientId: 'machine',
        clientSecret: 'machine-secret',
        allowInsecureRequests: true,
        dpop,
      });
      const client = new Client({ name: 'machine', version: '1.0.0' });
      await client.connect(new StreamableHttpClientTransport({ url, authProvider: provider }));
      const result = await client.callTool('whoami', {});
      const me = JSON.parse((result.content[0] as { text: string }).text);
      expect(me.subject).toBe('machine');
      expect(me.scopes).toContain('mcp:read');
      if (dpop) expect(me.cnf?.jkt).toMatch(/^[\w-]{43}$/);
      else expect(me.cnf).toBeUndefined();
      await client.close();
    }
  });

  it('lets the official SDK v2 client, with its own OAuth provider, discover, obtain a token and call a tool', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: 'machine',
      clientSecret: 'machine-secret',
      scope: 'mcp:read',
      expectedIssuer: as.issuer,
    });
    const client = new SdkClient({ name: 'sdk-machine', version: '1.0.0' });
    await client.connect(new SdkHttp(new URL(url), { authProvider: provider }));
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const me = JSON.parse((result.content as { text: string }[])[0]!.text);
    expect(me).toMatchObject({ subject: 'machine', scopes: ['mcp:read'] });
    await client.close();
  });
});

describe('oauthMiddleware: Express in front of createNodeHandler', () => {
  it('serves the metadata, refuses without a token and admits the OAuth client', async () => {
    await using as = await startAuthServer();
    const app = express();
    let auth: OAuthResourceServer | undefined;
    app.use((req, res, next) => oauthMiddleware(auth!)(req, res, next));
    app.all('/mcp', createNodeHandler(mcpServer()));
    const listener = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`;
      auth = oauthResourceServer({ issuer: as.issuer, resource: url, requiredScopes: ['mcp:read'] });
      const doc = await fetch(`${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`);
      expect(await doc.json()).toMatchObject({ resource: url });
      const refused = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);
      const provider = new OAuthClientProvider({
        grant: 'client_credentials',
        clientId: 'machine',
        clientSecret: 'machine-secret',
        allowInsecureRequests: true,
        dpop: false,
      });
      const client = new Client({ name: 'machine', version: '1.0.0' });
      await client.connect(new StreamableHttpClientTransport({ url, authProvider: provider }));
      const me = JSON.parse(((await client.callTool('whoami', {})).content[0] as { text: string }).text);
      expect(me).toMatchObject({ subject: 'machine', scopes: ['mcp:read'] });
      await client.close();
    } finally {
      listener.closeAllConnections();
      await new Promise((r) => listener.close(r));
    }
  });
});

describe('serveHttp with authenticator: the Node binding', () => {
  it('challenges, admits both OAuth clients with DPoP, refuses a replayed proof, and a missing tool scope leads the client to step up', async () => {
    await using as = await startAuthServer();
    const server = mcpServer();
    server.registerTool('erase', { scopes: ['mcp:admin'] }, () => 'erased');
    let auth: OAuthResourceServer | undefined;
    const srv = await serveHttp(server, {
      port: 0,
      authenticator: { authenticate: (r) => auth!.authenticate(r) },
      wellKnown: (r) => auth!.handleMetadataRequest(r),
    });
    try {
      const url = srv.url;
      auth = oauthResourceServer({
        issuer: as.issuer,
        resource: url,
        requiredScopes: ['mcp:read'],
        dpop: {},
      });
      server.use(toolScopes(server, { resourceServer: auth }));
      const refused = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: '{}',
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(
        /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
      );

      const provider = new OAuthClientProvider({
        grant: 'client_credentials',
        clientId: 'machine',
        clientSecret: 'machine-secret',
        allowInsecureRequests: true,
        dpop: true,
      });
      const client = new Client({ name: 'machine', version: '1.0.0' });
      await client.connect(new StreamableHttpClientTransport({ url, authProvider: provider }));
      const me = JSON.parse(((await client.callTool('whoami', {})).content[0] as { text: string }).text);
      expect(me).toMatchObject({ subject: 'machine', cnf: { jkt: expect.stringMatching(/^[\w-]{43}$/) } });
      expect(me.scopes).toEqual(['mcp:read']);
      // A tool needing mcp:admin: 403 insufficient_scope, the client steps up, the call goes through.
      expect((await client.callTool('erase', {})).content).toEqual([{ type: 'text', text: 'erased' }]);
      const after = JSON.parse(((await client.callTool('whoami', {})).content[0] as { text: string }).text);
      expect(after.scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:admin']));
      await client.close();

      const sdk = new SdkClient({ name: 'sdk-machine', version: '1.0.0' });
      await sdk.connect(
        new SdkHttp(new URL(url), {
          authProvider: new ClientCredentialsProvider({
            clientId: 'machine',
            clientSecret: 'machine-secret',
            scope: 'mcp:read',
            expectedIssuer: as.issuer,
          }),
        }),
      );
      const sdkMe = await sdk.callTool({ name: 'whoami', arguments: {} });
      expect(JSON.parse((sdkMe.content as { text: string }[])[0]!.text)).toMatchObject({
        subject: 'machine',
      });
      await sdk.close();

      const key = await newDpopKey();
      const token = await as.token({ resource: url, scope: 'mcp:read', dpop: key });
      const proof = await dpopProof(key, { htm: 'POST', htu: url, token });
      const call = () =>
        modernToolCall(url, 'whoami', {}, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
      expect((await call()).status).toBe(200);
      const replay = await call();
      expect(replay.status).toBe(401);
      expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    } finally {
      await srv.close();
    }
  });
});
