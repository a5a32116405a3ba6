/**
 * `anywire serve --auth-issuer ...`: an OAuth-protected server from the command line. A small
 * authorization server (RFC 8414 metadata and a JWKS, keys and tokens made with jose) stands in for
 * the issuer; the CLI client is refused without a token and served with one, and the RFC 9728
 * metadata is served at the path-suffixed well-known URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anywire, start } from './cli-run.js';
import { startJwtIssuer } from './fixtures/jwt-issuer.js';
import { EVERYTHING } from './helpers.js';

const RESOURCE = 'https://mcp.example.test/mcp';

describe('anywire serve --auth-issuer', () => {
  let issuer: string;
  let token: (aud: string) => Promise<string>;
  let closeIssuer: () => Promise<unknown>;
  let served: Awaited<ReturnType<typeof start>>;
  let url: string;

  beforeAll(async () => {
    const as = await startJwtIssuer();
    issuer = as.issuer;
    closeIssuer = as.close;
    token = (aud) => as.token(aud, { scope: 'mcp:tools', client_id: 'cli-test' });
    served = await start(
      [
        'serve',
        EVERYTHING,
        '--http',
        '127.0.0.1:0',
        '--auth-issuer',
        issuer,
        '--auth-resource',
        RESOURCE,
        '--auth-scope',
        'mcp:tools',
      ],
      /(http:\/\/127\.0\.0\.1:\d+\/mcp)/,
    );
    url = served.match[1]!;
  });
  afterAll(async () => {
    await served?.stop();
    await closeIssuer?.();
  });

  it('refuses a call without a token or with one for another resource, serves one with a valid token', async () => {
    const none = await anywire(['call', url, 'echo', 'text=hi']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Unauthorized|401/);
    const other = await anywire([
      'call',
      url,
      'echo',
      'text=hi',
      '-H',
      `authorization: Bearer ${await token('https://elsewhere.test/mcp')}`,
    ]);
    expect(other.code).toBe(1);
    const ok = await anywire([
      'call',
      url,
      'echo',
      'text=hi',
      '-H',
      `authorization: Bearer ${await token(RESOURCE)}`,
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: 'hi\n' });
  });

  it('serves the RFC 9728 metadata and challenges with it', async () => {
    const origin = new URL(url).origin;
    const meta = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [issuer],
      scopes_supported: ['mcp:tools'],
    });
    const refused = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="[^"]+"/);
  });

  it('needs a resource URL', async () => {
    const r = await anywire(['serve', EVERYTHING, '--tcp', '127.0.0.1:0', '--auth-issuer', issuer]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--auth-issuer needs --auth-resource');
  });
});
