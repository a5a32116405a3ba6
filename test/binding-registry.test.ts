/**
 * One binding registry behind `serve`, `call` and `connect`: every scheme it lists serves and is
 * reached through the CLI, an unsupported scheme is refused with the supported ones listed, and a
 * command loads only the binding it uses. Runs the built CLI as a user would.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindingDefinitions, describeSchemes, supportedSchemes } from '../src/bindings/registry.js';
import { connect, transportForUrl } from '../src/connect.js';
import { BIN, ROOT } from './helpers.js';
import { generatePki, opensslUnavailable } from './fixtures/stream-certs.js';

const ECHO = join(ROOT, 'test/fixtures/echo-server.mjs');
const HOOK = join(ROOT, 'test/fixtures/record-imports.mjs');
const dir = mkdtempSync(join(tmpdir(), 'anywire-registry-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

type Run = { code: number; stdout: string; stderr: string; loaded: string[] };
let runs = 0;

/** `node bin/anywire.js ...args`, recording the modules it loads. */
function anywire(args: string[]): Promise<Run> {
  const record = join(dir, `imports-${runs++}.txt`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', HOOK, BIN, ...args],
      { cwd: ROOT, timeout: 60_000, env: { ...process.env, RECORD_IMPORTS: record } },
      (error, stdout, stderr) => {
        let loaded: string[] = [];
        try {
          loaded = readFileSync(record, 'utf8').split('\n').filter(Boolean);
        } catch {
          // the child recorded nothing
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, loaded });
      },
    );
  });
}

/** Starts `anywire serve` and resolves with its endpoint table (label → endpoint) once printed. */
function serve(args: string[], rows: number): Promise<Map<string, string>> {
  const child = spawn(process.execPath, [BIN, 'serve', ECHO, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`anywire serve printed no table of ${rows} endpoints in 60 s:\n${err}`)),
      60_000,
    );
    child.stderr.on('data', (d) => {
      err += d;
      const table = err.split('\n').filter((l) => l.startsWith('  '));
      if (table.length < rows) return;
      clearTimeout(timer);
      resolve(
        new Map(
          table.map((l) => [
            l.trim().split(/\s{2,}/)[0]!,
            l
              .trim()
              .split(/\s{2,}/)
              .pop()!,
          ]),
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anywire serve exited (${code}):\n${err}`));
    });
  });
}

const modulesOf = (loaded: string[], pkg: string) => loaded.some((u) => u.includes(`/node_modules/${pkg}/`));

describe('the binding registry', () => {
  it('lists every binding once, each scheme with its colon, and describes them in one line', () => {
    expect(bindingDefinitions().map((b) => b.name)).toEqual([
      'stdio',
      'streamable-http',
      'websocket',
      'stream',
      'grpc',
      'mqtt',
    ]);
    expect(supportedSchemes()).toEqual(
      expect.arrayContaining([
        'http:',
        'https:',
        'ws:',
        'wss:',
        'tcp:',
        'tls:',
        'unix:',
        'grpc:',
        'grpcs:',
        'mqtt:',
        'mqtts:',
      ]),
    );
    expect(describeSchemes()).toContain('grpc(s)://host:port');
  });

  it('anywire serve --http --ws --grpc --tcp --unix, then anywire call on each endpoint', async () => {
    const sock = join(dir, 'echo.sock');
    const table = await serve(
      [
        '--http',
        '127.0.0.1:0',
        '--ws',
        '127.0.0.1:0',
        '--grpc',
        '127.0.0.1:0',
        '--tcp',
        '127.0.0.1:0',
        '--unix',
        sock,
      ],
      5,
    );
    const endpoints = [...table.values()];
    expect(endpoints).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/),
      expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/mcp$/),
      expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/),
      `unix:${sock}`,
      expect.stringMatching(/^grpc:\/\/127\.0\.0\.1:\d+$/),
    ]);
    const others: Record<string, string[]> = {
      http: ['@grpc', 'mqtt', 'ws', '@msgpack'],
      ws: ['@grpc', 'mqtt', '@msgpack'],
      grpc: ['mqtt', 'ws', '@msgpack'],
      tcp: ['@grpc', 'mqtt', 'ws'],
      unix: ['@grpc', 'mqtt', 'ws'],
    };
    const results = await Promise.all(
      endpoints.map((url) => anywire(['call', url, 'echo', `text=via ${url}`])),
    );
    for (const [i, r] of results.entries()) {
      const url = endpoints[i]!;
      expect({ url, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        url,
        code: 0,
        stdout: `via ${url}\n`,
        stderr: '',
      });
      const scheme = new URL(url).protocol.slice(0, -1);
      expect({ url, loaded: others[scheme]!.filter((p) => modulesOf(r.loaded, p)) }).toEqual({
        url,
        loaded: [],
      });
    }
  });

  it('connect() reaches a server through the registry and reports the binding name', async () => {
    const table = await serve(['--tcp', '127.0.0.1:0'], 1);
    const url = [...table.values()][0]!;
    expect(transportForUrl(url).binding).toBe('tcp');
    const client = await connect(url);
    expect(await client.callTool('echo', { text: 'connected' })).toMatchObject({
      content: [{ type: 'text', text: 'connected' }],
    });
    await client.close();
  });

  const noTls = opensslUnavailable();
  it.skipIf(noTls)(
    `TLS flags turn --grpc into grpcs:// and --tls serves; the CLI reaches both ${noTls ?? ''}`,
    async () => {
      const pki = generatePki();
      try {
        const table = await serve(
          [
            '--grpc',
            '127.0.0.1:0',
            '--tls',
            '127.0.0.1:0',
            '--tls-cert',
            pki.files.serverCert,
            '--tls-key',
            pki.files.serverKey,
          ],
          2,
        );
        const endpoints = [...table.values()];
        expect(endpoints).toEqual([
          expect.stringMatching(/^tls:\/\/127\.0\.0\.1:\d+$/),
          expect.stringMatching(/^grpcs:\/\/127\.0\.0\.1:\d+$/),
        ]);
        for (const url of endpoints) {
          const r = await anywire([
            'call',
            `${url}?ca=${pki.files.ca}&servername=localhost`,
            'echo',
            'text=secure',
          ]);
          expect({ url, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
            url,
            code: 0,
            stdout: 'secure\n',
            stderr: '',
          });
        }
      } finally {
        pki.remove();
      }
    },
  );

  it('an unsupported scheme is refused by call and serve, naming the supported ones', async () => {
    const call = await anywire(['call', 'gopher://127.0.0.1:1/mcp', 'echo', 'text=x']);
    expect(call.code).toBe(1);
    for (const s of ['http', 'ws', 'tcp', 'unix', 'grpc', 'mqtt']) expect(call.stderr).toContain(s);
    const served = await anywire(['serve', ECHO, '--url', 'gopher://127.0.0.1:0']);
    expect(served.code).toBe(1);
    expect(served.stderr).toMatch(
      /no binding for gopher: URLs; the supported schemes are stdio, http, https, ws, wss, tcp, tls, unix, grpc, grpcs, mqtt, mqtts$/m,
    );
  });
});
