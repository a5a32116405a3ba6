/**
 * Scope middleware: per-tool scopes (`registerTool(name, { scopes })`) checked on `tools/call`
 * with a 403 `insufficient_scope` step-up challenge, tools hidden from `tools/list`, and
 * server-wide `requireScopes`.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, oauthResourceServer, requireScopes, toolScopes } from '../src/auth/index.js';
import type { ScopeContext } from '../src/auth/index.js';
import type { JsonObject } from '../src/protocol/types.js';
import { McpServer } from '../src/server/mcp-server.js';

function server(): McpServer {
  const s = new McpServer({ name: 'scoped', version: '1.0.0' });
  s.registerTool('read', { scopes: ['files:read'] }, () => 'r');
  s.registerTool('write', { scopes: ['files:read', 'files:write'] }, () => 'w');
  s.registerTool('ping', {}, () => 'pong');
  return s;
}

const ctx = (method: string, params: JsonObject, scopes?: string[]): ScopeContext => ({
  method,
  params,
  ...(scopes ? { authInfo: { subject: 'u', scopes } } : {}),
});

const called = async () => ({ content: [] });

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the request to be refused').toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('toolScopes', () => {
  const auth = oauthResourceServer({ issuer: 'https://as.test', resource: 'https://mcp.test/mcp' });

  it('lets a caller with the tool scopes call it and refuses one without, with a step-up challenge', async () => {
    const s = server();
    const mw = toolScopes(s, { resourceServer: auth });
    await expect(mw(ctx('tools/call', { name: 'read' }, ['files:read']), called)).resolves.toEqual({
      content: [],
    });
    await expect(mw(ctx('tools/call', { name: 'ping' }, []), called)).resolves.toEqual({ content: [] });
    const error = await refusal(mw(ctx('tools/call', { name: 'write' }, ['files:read']), called));
    expect(error.status).toBe(403);
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="insufficient_scope", error_description="insufficient scope: needs files:read files:write", ' +
        'resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"',
    );
  });

  it('refuses anonymous callers unless allowAnonymous, and honours per-name overrides', async () => {
    const s = server();
    expect((await refusal(toolScopes(s)(ctx('tools/call', { name: 'read' }), called))).status).toBe(403);
    await expect(
      toolScopes(s, { allowAnonymous: true })(ctx('tools/call', { name: 'read' }), called),
    ).resolves.toBeDefined();
    const mw = toolScopes(s, { scopes: { ping: ['admin'] } });
    expect(
      (await refusal(mw(ctx('tools/call', { name: 'ping' }, ['files:read']), called))).challenge.scope,
    ).toBe('files:read admin');
  });

  it('hides the tools a caller cannot call from tools/list when asked', async () => {
    const s = server();
    const list = async () => ({
      tools: [...s.tools.values()].map((t) => t.listing) as unknown as JsonObject[],
    });
    const names = async (mw: ReturnType<typeof toolScopes>, scopes: string[]) =>
      ((await mw(ctx('tools/list', {}, scopes), list)).tools as { name: string }[]).map((t) => t.name);
    expect(await names(toolScopes(s, { hideUnauthorized: true }), ['files:read'])).toEqual(['read', 'ping']);
    expect(await names(toolScopes(s, { hideUnauthorized: true }), ['files:read', 'files:write'])).toEqual([
      'read',
      'write',
      'ping',
    ]);
    expect(await names(toolScopes(s), [])).toEqual(['read', 'write', 'ping']);
    // The scopes stay on the server: they are not part of the listing.
    expect(s.tools.get('read')!.listing).not.toHaveProperty('scopes');
  });
});

describe('requireScopes', () => {
  it('requires the scopes on every request or on the listed methods only', async () => {
    const all = requireScopes(['mcp']);
    expect((await refusal(all(ctx('tools/list', {}, []), called))).challenge).toMatchObject({
      error: 'insufficient_scope',
      scope: 'mcp',
    });
    await expect(all(ctx('tools/list', {}, ['mcp']), called)).resolves.toBeDefined();
    const some = requireScopes(['admin'], { methods: ['logging/setLevel'] });
    await expect(some(ctx('tools/list', {}, []), called)).resolves.toBeDefined();
    expect((await refusal(some(ctx('logging/setLevel', {}, ['mcp']), called))).status).toBe(403);
  });
});
