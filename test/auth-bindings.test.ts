/**
 * One resource server, every wire: tokens minted by a real authorization server (node-oidc-provider)
 * admitted on the WebSocket upgrade (Bearer and DPoP), on gRPC metadata and in the first message's
 * `_meta` over mutual TLS (with an RFC 8705 certificate-bound token); refusals carry each wire's
 * status and the same challenge, and the principal reaches handlers as `ctx.authInfo`.
 */
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthResourceServer } from '../src/auth/index.js';
import type { OAuthResourceServer } from '../src/auth/index.js';
import { Client } from '../src/client/client.js';
import { McpServer } from '../src/server/mcp-server.js';
import { GrpcClientTransport, serveGrpc } from '../src/transports/grpc/index.js';
import { serveTls } from '../src/transports/stream/index.js';
import { serveWebSocket, WebSocketClientTransport } from '../src/transports/websocket/index.js';
import { toolScopes } from '../src/auth/index.js';
import { dpopProof, newDpopKey, startAuthServer } from './auth-provider.js';
import type { TestAuthServer } from './auth-provider.js';
import { generatePki, opensslUnavailable } from './fixtures/stream-certs.js';
import { connected, RawPeer } from './fixtures/stream-raw.js';

let as: TestAuthServer;
beforeAll(async () => {
  as = await startAuthServer();
});
afterAll(async () => {
  await as?.[Symbol.asyncDispose]();
});

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

async function whoami(client: Client): Promise<Record<string, unknown>> {
  const result = await client.callTool('whoami', {});
  return JSON.parse((result.content[0] as { text: string }).text);
}

/** The status and headers a WebSocket upgrade is refused with (or 101). */
function upgrade(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mcp', { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      resolve({ status: 101, headers: {} });
      ws.close();
    });
    ws.once('error', (e) => reject(e));
  });
}

describe('WebSocket: the upgrade request is authorized', () => {
  let url: string;
  let resource: string;
  let close: () => Promise<void>;
  let auth: OAuthResourceServer;

  beforeAll(async () => {
    const handle = await serveWebSocket(mcpServer(), {
      port: 0,
      authenticator: { authenticate: (r) => auth.authenticate(r) },
    });
    url = handle.url;
    // The upgrade's URL as the binding reports it (http: for ws:), the resource tokens are minted for.
    resource = url.replace(/^ws/, 'http');
    auth = oauthResourceServer({ issuer: as.issuer, resource, requiredScopes: ['mcp:read'], dpop: {} });
    close = () => handle.close();
  });
  afterAll(() => close?.());

  it('admits a Bearer token and hands the principal to handlers', async () => {
    const token = await as.token({ resource, scope: 'mcp:read' });
    const client = new Client({ name: 't', version: '1' });
    await client.connect(
      new WebSocketClientTransport(url, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(await whoami(client)).toEqual({ subject: 'machine', scopes: ['mcp:read'] });
    await client.close();
  });

  it('refuses before the upgrade: 401 with the challenge, 403 for a missing scope', async () => {
    const missing = await upgrade(url, {});
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(
      /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource", scope="mcp:read"/,
    );
    const other = await as.token({ resource: 'https://elsewhere.test/mcp', scope: 'mcp:read' });
    expect((await upgrade(url, { authorization: `Bearer ${other}` })).status).toBe(401);
    const narrow = await as.token({ resource, scope: 'mcp:write' });
    const forbidden = await upgrade(url, { authorization: `Bearer ${narrow}` });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
  });

  it('admits a DPoP-bound token with a proof for the upgrade, and refuses its replay and a Bearer downgrade', async () => {
    const key = await newDpopKey();
    const token = await as.token({ resource, scope: 'mcp:read', dpop: key });
    const proof = await dpopProof(key, { htm: 'GET', htu: resource, token });
    const client = new Client({ name: 't', version: '1' });
    await client.connect(
      new WebSocketClientTransport(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }),
    );
    expect(await whoami(client)).toMatchObject({ subject: 'machine', cnf: { jkt: key.jkt } });
    await client.close();
    const replay = await upgrade(url, { authorization: `DPoP ${token}`, dpop: proof });
    expect(replay.status).toBe(401);
    expect(replay.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
    const downgrade = await upgrade(url, { authorization: `Bearer ${token}` });
    expect(downgrade.status).toBe(401);
    expect(downgrade.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
  });
});

describe('gRPC: metadata is authorized', () => {
  it('admits a Bearer token in metadata and refuses one for another resource with UNAUTHENTICATED', async () => {
    const resource = 'https://mcp.example.test/grpc';
    const auth = oauthResourceServer({ issuer: as.issuer, resource });
    const handle = await serveGrpc(mcpServer(), { port: 0, authenticator: auth });
    try {
      const token = await as.token({ resource, scope: 'mcp:read' });
      const client = new Client({ name: 't', version: '1' });
      await client.connect(
        new GrpcClientTransport({ url: handle.url, metadata: { authorization: `Bearer ${token}` } }),
      );
      expect(await whoami(client)).toEqual({ subject: 'machine', scopes: ['mcp:read'] });
      await client.close();
      const other = await as.token({ resource: 'https://elsewhere.test/mcp', scope: 'mcp:read' });
      const refused = new Client({ name: 't', version: '1' });
      const error = await refused
        .connect(new GrpcClientTransport({ url: handle.url, metadata: { authorization: `Bearer ${other}` } }))
        .then(() => refused.callTool('whoami', {}))
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(error?.message).toMatch(/UNAUTHENTICATED \(16\).*token not issued for this resource \(aud\)/);
      await refused.close().catch(() => {});
    } finally {
      await handle.close();
    }
  });
});

describe('TLS: a certificate-bound token in the first message _meta (RFC 8705)', () => {
  const skip = opensslUnavailable();
  it.skipIf(skip)(
    `honours the token over its own certificate only${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const pki = generatePki();
      const resource = 'https://mcp.example.test/tls';
      const auth = oauthResourceServer({ issuer: as.issuer, resource });
      const handle = await serveTls(mcpServer(), {
        port: 0,
        cert: pki.serverCert,
        key: pki.serverKey,
        ca: pki.ca,
        requestCert: true,
        authenticator: auth,
      });
      const { port } = handle.address as AddressInfo;
      const thumbprint = Buffer.from(
        await crypto.subtle.digest('SHA-256', new X509Certificate(pki.clientCert).raw),
      ).toString('base64url');
      const call = async (token: string) => {
        const socket = await connected(
          connect({
            host: '127.0.0.1',
            port,
            ca: pki.ca,
            cert: pki.clientCert,
            key: pki.clientKey,
            servername: 'localhost',
          }),
          'secureConnect',
        );
        const peer = new RawPeer(socket);
        peer.line(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: {
              name: 'whoami',
              arguments: {},
              _meta: {
                'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                'io.modelcontextprotocol/clientCapabilities': {},
                authorization: `Bearer ${token}`,
              },
            },
          }),
        );
        try {
          return await peer.next(10_000);
        } finally {
          socket.destroy();
        }
      };
      try {
        const bound = await as.sign({ aud: resource, sub: 'workload', cnf: { 'x5t#S256': thumbprint } });
        const ok = await call(bound);
        expect(JSON.parse(ok.result.content[0].text)).toMatchObject({
          subject: 'workload',
          cnf: { 'x5t#S256': thumbprint },
        });
        const elsewhere = await as.sign({
          aud: resource,
          sub: 'workload',
          cnf: { 'x5t#S256': 'A'.repeat(43) },
        });
        const refused = await call(elsewhere);
        expect(refused.error.code).toBe(-32030);
        expect(refused.error.data).toMatchObject({ status: 401, error: 'invalid_token' });
      } finally {
        await handle.close();
        pki.remove();
      }
    },
  );
});

describe('per-tool scopes through server.use (WebSocket)', () => {
  it('refuses a tools/call without the tool scope with insufficient_scope, and hides the tool from tools/list', async () => {
    const server = mcpServer();
    server.registerTool('erase', { scopes: ['mcp:admin'] }, () => 'erased');
    const handle = await serveWebSocket(server, {
      port: 0,
      authenticator: { authenticate: (r) => auth.authenticate(r) },
    });
    const resource = handle.url.replace(/^ws/, 'http');
    const auth = oauthResourceServer({ issuer: as.issuer, resource });
    server.use(toolScopes(server, { resourceServer: auth, hideUnauthorized: true }));
    try {
      const connect = async (scope: string) => {
        const token = await as.token({ resource, scope });
        const client = new Client({ name: 't', version: '1' });
        await client.connect(
          new WebSocketClientTransport(handle.url, { headers: { authorization: `Bearer ${token}` } }),
        );
        return client;
      };
      const reader = await connect('mcp:read');
      expect((await reader.listTools()).map((t) => t.name)).toEqual(['whoami']);
      const error = await reader.callTool('erase', {}).then(
        () => undefined,
        (e: unknown) => e as { code?: number; message: string; data?: unknown },
      );
      expect(error).toMatchObject({
        code: -32030,
        data: { status: 403, error: 'insufficient_scope' },
      });
      expect((error!.data as { wwwAuthenticate: string }).wwwAuthenticate).toMatch(
        /^Bearer error="insufficient_scope", .*scope="mcp:read mcp:admin"$/,
      );
      await reader.close();
      const admin = await connect('mcp:read mcp:admin');
      expect((await admin.listTools()).map((t) => t.name)).toEqual(['whoami', 'erase']);
      expect((await admin.callTool('erase', {})).content).toEqual([{ type: 'text', text: 'erased' }]);
      await admin.close();
    } finally {
      await handle.close();
    }
  });
});
