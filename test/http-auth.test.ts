/**
 * The HTTP adapter of the shared ingress (issue 8 item 3): one `Authenticator` for every method
 * (POST, GET, DELETE) and both HTTP+SSE endpoints; refusals are 401/403 with `WWW-Authenticate`
 * (never 500); an AuthError thrown during dispatch maps to 401/403 too; legacy sessions (and
 * HTTP+SSE sessions) are bound to the principal that opened them (404 for anyone else); the
 * authenticator sees the absolute `url` without query and the `httpMethod`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../src/protocol/auth.js';
import type { AuthRequest, Authenticator } from '../src/protocol/auth.js';
import { McpServer } from '../src/server/mcp-server.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';

const seen: AuthRequest[] = [];
const reported: Error[] = [];
const authenticator: Authenticator = {
  authenticate(request) {
    seen.push(request);
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    if (token === undefined)
      throw new AuthError(401, 'Unauthorized: a bearer token is required', {
        resource_metadata: 'http://127.0.0.1/.well-known/oauth-protected-resource',
      });
    if (token === 'banned')
      throw new AuthError(
        403,
        'Forbidden: banned',
        { error: 'insufficient_scope', scope: 'mcp' },
        { 'dpop-nonce': 'n1' },
      );
    if (token === 'boom') throw new Error('the authorization server is down');
    return { token, subject: token, scopes: token === 'admin' ? ['admin'] : [] };
  },
};

function makeServer(): McpServer {
  const server = new McpServer({ name: 'auth', version: '1.0.0' });
  server.registerTool('whoami', {}, (_a, ctx) => String(ctx.authInfo?.subject));
  server.registerTool('admin', {}, () => 'admin only');
  server.use(async (ctx, next) => {
    if (
      ctx.method === 'tools/call' &&
      (ctx.params as { name?: string }).name === 'admin' &&
      !ctx.authInfo?.scopes?.includes('admin')
    )
      throw new AuthError(403, 'Forbidden: the admin scope is required', {
        error: 'insufficient_scope',
        scope: 'admin',
      });
    return next();
  });
  return server;
}

let srv: HttpServerHandle;
beforeAll(async () => {
  srv = await serveHttp(makeServer(), { port: 0, authenticator, onerror: (e) => reported.push(e) });
});
afterAll(() => srv.close());

const ACCEPT = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const bearer = (t?: string): Record<string, string> =>
  t === undefined ? {} : { authorization: `Bearer ${t}` };
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function modernCall(name: string, token?: string) {
  return fetch(srv.url, {
    method: 'POST',
    headers: {
      ...ACCEPT,
      ...bearer(token),
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: {}, _meta: META },
    }),
  });
}

async function expectRefusal(r: Response, status: 401 | 403, challenge: RegExp): Promise<void> {
  expect(r.status).toBe(status);
  expect(r.headers.get('www-authenticate')).toMatch(challenge);
  const body = (await r.json()) as { error: { code: number; data: { status: number } } };
  expect(body.error.code).toBe(-32030);
  expect(body.error.data.status).toBe(status);
}

async function initialize(token: string): Promise<string> {
  const r = await fetch(srv.url, {
    method: 'POST',
    headers: { ...ACCEPT, ...bearer(token) },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  expect(r.status).toBe(200);
  await r.text();
  return r.headers.get('mcp-session-id')!;
}

function legacy(session: string, token: string | undefined, init: RequestInit & { body?: string } = {}) {
  return fetch(srv.url, {
    method: 'POST',
    ...init,
    headers: {
      ...ACCEPT,
      ...bearer(token),
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-11-25',
      ...(init.headers as Record<string, string>),
    },
  });
}

const whoamiBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});

describe('Streamable HTTP, 2026-07-28', () => {
  it('no credentials: 401 with the challenge; a good token: served with the principal', async () => {
    await expectRefusal(await modernCall('whoami'), 401, /^Bearer resource_metadata="/);
    const ok = await modernCall('whoami', 'alice');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('alice');
  });

  it('403 carries the challenge and the error headers (DPoP-Nonce)', async () => {
    const r = await modernCall('whoami', 'banned');
    expect(r.headers.get('dpop-nonce')).toBe('n1');
    await expectRefusal(r, 403, /error="insufficient_scope"/);
  });

  it('an authenticator that throws a plain Error is 401 invalid_token (never 500), reported to onerror', async () => {
    await expectRefusal(await modernCall('whoami', 'boom'), 401, /invalid_token/);
    expect(reported.some((e) => /authorization server is down/.test(String(e.message)))).toBe(true);
  });

  it('an AuthError thrown during dispatch (middleware) is 403 with its challenge', async () => {
    await expectRefusal(await modernCall('admin', 'alice'), 403, /scope="admin"/);
    const ok = await modernCall('admin', 'admin');
    expect(ok.status).toBe(200);
  });

  it('the authenticator sees the absolute URL without query and the HTTP method', async () => {
    seen.length = 0;
    await (await fetch(`${srv.url}?x=1`, { method: 'DELETE', headers: bearer('alice') })).text();
    expect(seen[0]!.url).toBe(srv.url);
    expect(seen[0]!.httpMethod).toBe('DELETE');
    expect(seen[0]!.binding).toBe('http');
  });
});

describe('Streamable HTTP, legacy sessions', () => {
  it('initialize without credentials is 401 and mints no session', async () => {
    const before = srv.http.sessions.size;
    const r = await fetch(srv.url, {
      method: 'POST',
      headers: ACCEPT,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    await expectRefusal(r, 401, /Bearer/);
    expect(srv.http.sessions.size).toBe(before);
  });

  it('POST, GET and DELETE are authenticated; another principal with the session id gets 404', async () => {
    const session = await initialize('alice');
    const mine = await legacy(session, 'alice', { body: whoamiBody });
    expect(mine.status).toBe(200);
    expect(await mine.text()).toContain('alice');

    await expectRefusal(await legacy(session, undefined, { body: whoamiBody }), 401, /Bearer/);
    const foreignPost = await legacy(session, 'bob', { body: whoamiBody });
    expect(foreignPost.status).toBe(404);
    await foreignPost.text();

    const get = (token?: string) =>
      fetch(srv.url, {
        headers: { accept: 'text/event-stream', ...bearer(token), 'mcp-session-id': session },
      });
    await expectRefusal(await get(), 401, /Bearer/);
    const foreignGet = await get('bob');
    expect(foreignGet.status).toBe(404);
    await foreignGet.text();

    const del = (token?: string) =>
      fetch(srv.url, { method: 'DELETE', headers: { ...bearer(token), 'mcp-session-id': session } });
    await expectRefusal(await del(), 401, /Bearer/); // the bare DELETE no longer ends a session
    const foreignDel = await del('bob');
    expect(foreignDel.status).toBe(404);
    await foreignDel.text();
    expect(srv.http.sessions.has(session)).toBe(true);
    const stillMine = await legacy(session, 'alice', { body: whoamiBody });
    expect(stillMine.status).toBe(200);
    await stillMine.text();
    const ownDel = await del('alice');
    expect(ownDel.status).toBe(200);
    expect(srv.http.sessions.has(session)).toBe(false);
  });
});

describe('HTTP+SSE (2024-11-05)', () => {
  it('the GET is authenticated, and its POSTs are tied to the principal that opened it', async () => {
    const sseUrl = srv.url.replace(/\/mcp$/, '/sse');
    await expectRefusal(await fetch(sseUrl, { headers: { accept: 'text/event-stream' } }), 401, /Bearer/);
    const ac = new AbortController();
    const stream = await fetch(sseUrl, {
      headers: { accept: 'text/event-stream', ...bearer('alice') },
      signal: ac.signal,
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    const endpoint = /data: (.*)/.exec(text)![1]!;
    const post = (token?: string) =>
      fetch(new URL(endpoint, srv.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });
    await expectRefusal(await post(), 401, /Bearer/);
    const foreign = await post('bob');
    expect(foreign.status).toBe(404);
    await foreign.text();
    const own = await post('alice');
    expect(own.status).toBe(202);
    await own.text();
    ac.abort();
  });
});
