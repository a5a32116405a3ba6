/**
 * `anywire login` / `logout` end to end (needs `npm run build`): a real authorization server
 * (node-oidc-provider) and a protected anywire server on 127.0.0.1 port 0; the test plays the user
 * in the browser (login and consent through the interaction API), the CLI takes the code on its
 * loopback redirect, caches the tokens in a 0600 file, and `call` uses them.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizationServer, ProtectedServer } from './oauth-client-fixtures.js';
import { startAuthorizationServer, startProtectedServer, userAgent } from './oauth-client-fixtures.js';
import { BIN } from './helpers.js';

let as: AuthorizationServer | undefined;
let rs: ProtectedServer | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
  await rs?.close();
  await as?.close();
  rs = undefined;
  as = undefined;
});

/** Runs the CLI with a private config dir and no browser opener on PATH. */
function cli(args: string[], configHome: string) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { XDG_CONFIG_HOME: configHome, HOME: configHome, PATH: dirname(process.execPath) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Resolves with the first match of `pattern` in what `read` returns, polling until `timeoutMs`. */
async function waitFor(
  read: () => string,
  pattern: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(read());
    if (m) return m;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got: ${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('anywire login', () => {
  it('browser flow on a loopback redirect, tokens in a 0600 file, used by call, removed by logout', async () => {
    as = await startAuthorizationServer(() => rs!.url);
    rs = await startProtectedServer(() => as!.issuer);
    const home = mkdtempSync(join(tmpdir(), 'anywire-login-'));

    const login = cli(['login', rs.url, '--no-dpop'], home);
    const [, printed] = await waitFor(login.err, /^\s+(http\S+)$/m, 'the authorization URL on stderr');
    const authorizationUrl = new URL(printed!);
    const redirectUri = authorizationUrl.searchParams.get('redirect_uri')!;
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('resource')).toBe(rs.url);
    // The user logs in and consents; the browser lands on the CLI's loopback server.
    const callback = await userAgent(redirectUri)(authorizationUrl);
    const landed = await fetch(callback);
    expect(landed.status).toBe(200);
    expect(await login.exited).toBe(0);
    expect(login.err()).toMatch(/Logged in to .*\/mcp at http:\/\/127\.0\.0\.1:\d+/);

    const file = join(home, 'anywire', 'tokens.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { access_token?: string }>;
    expect(cached[`tokens ${rs.url}`]?.access_token).toBeTypeOf('string');

    const call = cli(['call', rs.url, 'whoami', '--json'], home);
    expect(await call.exited).toBe(0);
    expect(call.out()).toContain('alice');

    const logout = cli(['logout', rs.url], home);
    expect(await logout.exited).toBe(0);
    expect(logout.err()).toContain('Logged out');
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).not.toContain(`tokens ${rs.url}`);

    const refused = cli(['call', rs.url, 'whoami'], home);
    expect(await refused.exited).toBe(1);
    expect(refused.err()).toContain('401');
  });

  it('--client-credentials: a machine login; when its token expires, the next command runs the grant again', async () => {
    as = await startAuthorizationServer(() => rs!.url);
    rs = await startProtectedServer(() => as!.issuer);
    const home = mkdtempSync(join(tmpdir(), 'anywire-login-'));
    const login = cli(
      [
        'login',
        rs.url,
        '--client-credentials',
        '--client-id',
        'machine',
        '--client-secret',
        'machine-secret',
        '--no-dpop',
      ],
      home,
    );
    expect(await login.exited).toBe(0);
    const call = cli(['call', rs.url, 'whoami', '--json'], home);
    expect(await call.exited).toBe(0);
    expect(call.out()).toContain('machine');
    expect(as.events.grants.map((g) => g.grant_type)).toEqual(['client_credentials']);
    // The cached token expires: the next command runs the grant again, with no user involved.
    const file = join(home, 'anywire', 'tokens.json');
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    cached[`tokens ${rs.url}`]!.expires_at = Date.now() - 1000;
    writeFileSync(file, JSON.stringify(cached));
    const again = cli(['call', rs.url, 'whoami', '--json'], home);
    expect(await again.exited).toBe(0);
    expect(again.out()).toContain('machine');
    expect(as.events.grants.map((g) => g.grant_type)).toEqual(['client_credentials', 'client_credentials']);
  });
});
