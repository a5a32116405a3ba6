/**
 * The resource server on the Streamable HTTP binding: the RFC 9728 document served over real HTTP
 * at both well-known paths through the binding's `wellKnown` hook, next to a working MCP endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthResourceServer } from '../src/auth/index.js';
import type { OAuthResourceServer } from '../src/auth/index.js';
import { McpServer } from '../src/server/mcp-server.js';
import { serveHttp } from '../src/transports/streamable-http/index.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/index.js';

let srv: HttpServerHandle;
let auth: OAuthResourceServer;

beforeAll(async () => {
  const server = new McpServer({ name: 'protected', version: '1.0.0' });
  server.registerTool('whoami', {}, (_args, ctx) => ctx.authInfo?.subject ?? 'anonymous');
  auth = oauthResourceServer({
    issuer: 'https://auth.example.test',
    resource: 'https://mcp.example.test/mcp',
    requiredScopes: ['mcp:tools'],
  });
  srv = await serveHttp(server, { port: 0, wellKnown: auth.handleMetadataRequest });
});
afterAll(() => srv?.close());

describe('protected resource metadata over HTTP', () => {
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
