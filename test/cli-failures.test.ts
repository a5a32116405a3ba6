/**
 * Issue 12 item 3: the CLI fails loudly and clearly. Each case runs the `anywire` binary as a user
 * types it and checks what it prints and its exit status.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anywire, freePort, start } from './cli-run.js';
import { BIN, EVERYTHING, ROOT } from './helpers.js';

const THROWING = `${ROOT}test/fixtures/cli-throwing-server.ts`;

describe('bridge probes its upstream at start', () => {
  let web: http.Server;
  let base: string;
  beforeAll(async () => {
    // /mcp wants credentials; everything else is 404.
    web = http.createServer((req, res) => {
      res.writeHead(req.url === '/mcp' ? 401 : 404, { 'content-type': 'text/plain' });
      res.end('no');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => web.close(() => r())));

  it('an upstream that refuses connections: exit 1, naming the URL and the cause', async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const r = await anywire(['bridge', url, '--to', 'stdio', '--probe-timeout', '5000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`anywire: cannot reach ${url}: connection refused`);
    expect(r.stdout).toBe('');
  });

  it('a 404 hints at /mcp; a 401 says how to pass credentials', async () => {
    const r404 = await anywire(['bridge', `${base}/`, '--to', 'stdio']);
    expect(r404.code).toBe(1);
    expect(r404.stderr).toContain(
      `cannot reach ${base}/: 404 Not Found (MCP endpoints usually live at /mcp: try ${base}/mcp)`,
    );
    const r401 = await anywire(['bridge', `${base}/mcp`, '--to', 'stdio']);
    expect(r401.code).toBe(1);
    expect(r401.stderr).toContain(`cannot reach ${base}/mcp: 401 Unauthorized`);
    expect(r401.stderr).toContain("-H 'Authorization: Bearer <token>'");
  });

  it('a host that does not resolve: a DNS failure', async () => {
    const r = await anywire([
      'bridge',
      'http://no-such-host.invalid/mcp',
      '--to',
      'stdio',
      '--probe-timeout',
      '20000',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach http:\/\/no-such-host\.invalid\/mcp: (DNS lookup failed|no answer in time)/,
    );
  });

  it('TLS spoken to a plain HTTP server: a TLS failure', async () => {
    const r = await anywire(['bridge', `${base.replace('http:', 'https:')}/mcp`, '--to', 'stdio']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach https:\/\/127\.0\.0\.1:\d+\/mcp: TLS handshake failed|wrong version number|EPROTO/i,
    );
  });

  it('a stdio upstream that exits: its exit code', async () => {
    const r = await anywire(['bridge', '--to', 'stdio', '--', process.execPath, '-e', 'process.exit(7)']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the server \(.*\) exited: exit code 7/);
  });

  it('--lazy starts without the upstream, as before', async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const b = await start(
      ['bridge', url, '--lazy', '--to', 'http://127.0.0.1:0/mcp'],
      /bridging .*\n.*http:\/\/127\.0\.0\.1:\d+\/mcp/,
    );
    expect(b.stderr()).toContain(`bridging ${url}`);
    expect(await b.stop()).toBe(0);
  });
});

describe('stdio children that misbehave', () => {
  it('non-JSON on stdout is reported at once, not after a timeout', async () => {
    const r = await anywire([
      'call',
      'echo',
      '--',
      process.execPath,
      '-e',
      'console.log("Listening on port 8080 (debug build)"); setInterval(() => {}, 1000)',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'anywire: server wrote non-JSON to stdout: Listening on port 8080 (debug build)',
    );
    expect(r.ms).toBeLessThan(15_000); // the request timeout is 60 s
  });

  it('a child that dies: its exit code is shown', async () => {
    const r = await anywire([
      'list',
      'tools',
      '--',
      process.execPath,
      '-e',
      'process.stderr.write("missing API key\\n"); process.exit(3)',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing API key');
    expect(r.stderr).toMatch(/the server \(.*\) exited: exit code 3/);
  });
});

describe('errors in scripts and while debugging', () => {
  it('--json errors are JSON on stdout', async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const r = await anywire(['list', 'tools', url, '--json']);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { error: { message: string; code: string } };
    expect(body.error.message).toBe(
      `cannot reach ${url}: connection refused (is the server running on that host and port?)`,
    );
    expect(body.error.code).toBe('CONNECTION_CLOSED');
    const usage = await anywire(['list', 'tools', 'gopher://x/mcp', '--json']);
    expect(JSON.parse(usage.stdout).error.message).toMatch(
      /no binding for gopher: targets; supported: http\(s\):\/\//,
    );
  });

  it('--verbose and ANYWIRE_DEBUG=1 print stacks', async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const plain = await anywire(['list', 'tools', url]);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const verbose = await anywire(['list', 'tools', url, '--verbose']);
    expect(verbose.stderr).toMatch(/\n\s+at /);
    expect(verbose.stderr).toContain('caused by:');
    const env = await anywire(['list', 'tools', url], { env: { ANYWIRE_DEBUG: '1' } });
    expect(env.stderr).toMatch(/\n\s+at /);
  });

  it('an unsupported scheme lists the supported ones', async () => {
    const r = await anywire(['call', 'gopher://example.org/mcp', 'echo']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'no binding for gopher: targets; supported: http(s)://host:port/mcp, ws(s)://host:port/mcp, tcp://host:port',
    );
  });
});

describe('anywire serve', () => {
  it('logs a tool that throws on stderr with its name, file and line; --verbose adds the stack', async () => {
    const serve = ['--', process.execPath, BIN, 'serve', THROWING];
    const r = await anywire(['call', 'boom', ...serve]);
    expect(r.code).toBe(1); // the client sees an isError result
    expect(r.stderr).toMatch(/anywire: tool boom threw: kaboom \(at .*cli-throwing-server\.ts:\d+:\d+\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const v = await anywire(['call', 'boom', '--', process.execPath, BIN, 'serve', THROWING, '--verbose']);
    expect(v.stderr).toMatch(/tool boom threw: kaboom[^\n]*\nError: kaboom\n\s+at /);
    const quiet = await anywire([
      'call',
      'boom',
      '--',
      process.execPath,
      BIN,
      'serve',
      THROWING,
      '--log-level',
      'critical',
    ]);
    expect(quiet.stderr).not.toContain('threw');
  });

  it('--log-level debug logs each tool call; the client prints the log notifications it receives', async () => {
    const r = await anywire([
      'call',
      'fine',
      '--',
      process.execPath,
      BIN,
      'serve',
      THROWING,
      '--log-level',
      'debug',
    ]);
    expect(r.stderr).toMatch(/anywire: tool fine answered in \d+ ms/);
    const logs = await anywire([
      'call',
      'test_tool_with_logging',
      '--log-level',
      'info',
      '-q',
      '--',
      process.execPath,
      BIN,
      'serve',
      EVERYTHING,
    ]);
    expect(logs.code).toBe(0);
    expect(logs.stderr).toContain('[info] Tool execution started');
    expect(logs.stderr).toContain('[info] Tool execution completed');
    expect(logs.stdout).toBe('Tool with logging executed successfully\n');
    const bad = await anywire([
      'call',
      'fine',
      '--log-level',
      'loud',
      '--',
      process.execPath,
      BIN,
      'serve',
      THROWING,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expected one of debug, info');
  });

  it('a module that throws while loading: its file and line; --verbose prints the stack', async () => {
    const broken = `${ROOT}test/fixtures/cli-broken-module.ts`;
    const r = await anywire(['serve', broken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /anywire: BROKEN_PORT is not a number \(at .*cli-broken-module\.ts:3:\d+; --verbose for the stack\)/,
    );
    const v = await anywire(['serve', broken, '--verbose']);
    expect(v.stderr).toMatch(/Error: BROKEN_PORT is not a number\n\s+at .*cli-broken-module\.ts:3:\d+/);
  });

  it('--http PORT means 127.0.0.1:PORT; a port out of range is a clear error', async () => {
    const port = await freePort();
    const s = await start(['serve', EVERYTHING, '--http', String(port)], /http:\/\/[^\s]+\/mcp/);
    expect(s.match[0]).toBe(`http://127.0.0.1:${port}/mcp`);
    expect(await s.stop()).toBe(0);
    const r = await anywire(['serve', EVERYTHING, '--http', '70000']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('port 70000 is out of range (0-65535)');
  });
});
