/**
 * The `anywire` command line as a new user types it.
 */
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildArguments } from '../src/cli/commands.js';
import { McpServer } from '../src/server/mcp-server.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import { EVERYTHING, modernToolCall, ROOT } from './helpers.js';

const run = promisify(execFile);
const everything = ['npx', '-y', '@modelcontextprotocol/server-everything', 'stdio'];

async function anywire(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['anywire', ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('anywire CLI', () => {
  it('npx anywire call echo message=hello -- npx -y @modelcontextprotocol/server-everything stdio', async () => {
    const r = await anywire(['call', 'echo', 'message=hello', '--', ...everything]);
    expect(r.stdout).toBe('Echo: hello\n');
    expect(r.code).toBe(0);
  });

  it('npx anywire list tools -- npx -y @modelcontextprotocol/server-everything stdio', async () => {
    const r = await anywire(['list', 'tools', '--', ...everything]);
    expect(r.code).toBe(0);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']));
    expect(r.stdout).toMatch(/^echo\s+Echoes back the input string$/m);
  });

  it('types key=value arguments from the tool schema and prints JSON with --json', async () => {
    const r = await anywire(['call', 'get-sum', 'a=2', 'b=40', '--json', '-q', '--', ...everything]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.content[0].text).toContain('42');
  });

  it('serves a module and reads it back through the CLI; isError exits non-zero', async () => {
    const serve = ['--', process.execPath, `${ROOT}bin/anywire.js`, 'serve', EVERYTHING, '--stdio'];
    const read = await anywire(['read', 'test://static-text', '-q', ...serve]);
    expect(read).toMatchObject({ code: 0, stdout: 'This is the content of the static text resource.\n' });
    const prompts = await anywire(['list', 'prompts', '-q', ...serve]);
    expect(prompts.stdout).toMatch(/^test_simple_prompt\s+A simple prompt without arguments$/m);
    const failed = await anywire(['call', 'test_error_handling', '-q', ...serve]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('This tool intentionally returns an error for testing');
    const args = await anywire(['call', 'echo', '--args', '{"text":"from json"}', '-q', ...serve]);
    expect(args.stdout).toBe('from json\n');
    const missing = await anywire(['call', 'no_such_tool', '-q', ...serve]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/unknown tool no_such_tool/);
  });

  it('prints --help and --version', async () => {
    const help = await anywire(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: anywire/);
    expect(help.stdout).toMatch(/serve/);
    const version = await anywire(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('anywire serve: graceful shutdown', () => {
  it('on SIGTERM, a request in flight finishes before the process exits', async () => {
    const child = spawn(
      process.execPath,
      [`${ROOT}bin/anywire.js`, 'serve', EVERYTHING, '--http', '127.0.0.1:0'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(err)));
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // With a log level the tool's first log opens an SSE stream: when the headers arrive, the call
    // is in flight (the tool then takes about 100 ms more).
    const r = await modernToolCall(url, 'test_tool_with_logging', undefined, {
      meta: { 'io.modelcontextprotocol/logLevel': 'info' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    child.kill('SIGTERM');
    const messages = (await r.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { id?: number; result?: { content: { text: string }[] } });
    const answer = messages.find((m) => m.id === 1);
    expect(answer?.result?.content[0]!.text).toBe('Tool with logging executed successfully');
    expect(await exited).toBe(0);
  });
});

describe('anywire serve: HTTP and WebSocket on one port', () => {
  it('--http and --ws on the same address share the port by upgrade', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as net.AddressInfo;
        s.close(() => resolve(p));
      });
    });
    const addr = `127.0.0.1:${port}`;
    const child = spawn(
      process.execPath,
      [`${ROOT}bin/anywire.js`, 'serve', EVERYTHING, '--http', addr, '--ws', addr],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (/websocket \(by upgrade/.test(err)) resolve();
      });
      child.once('exit', () => reject(new Error(err)));
    });
    try {
      expect((await anywire(['call', `ws://${addr}/mcp`, 'echo', 'text=over ws'])).stdout).toBe('over ws\n');
      expect((await anywire(['call', `http://${addr}/mcp`, 'echo', 'text=over http'])).stdout).toBe(
        'over http\n',
      );
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('anywire call with request headers', () => {
  it('-H sends a header to a URL target; the server sees it as authInfo', async () => {
    const server = new McpServer({ name: 'auth', version: '1.0.0' });
    server.registerTool(
      'whoami',
      { description: 'who is calling' },
      (_a, ctx) => ctx.authInfo?.subject ?? 'anonymous',
    );
    const http = await serveHttp(server, {
      port: 0,
      authenticate: (headers) =>
        headers.authorization?.startsWith('Bearer ')
          ? { subject: headers.authorization.slice(7), token: headers.authorization }
          : undefined,
    });
    try {
      expect((await anywire(['call', http.url, 'whoami'])).stdout).toBe('anonymous\n');
      expect((await anywire(['call', http.url, 'whoami', '-H', 'Authorization: Bearer ada'])).stdout).toBe(
        'ada\n',
      );
    } finally {
      await http.close();
    }
  });
});

describe('buildArguments', () => {
  it('coerces by schema and falls back to JSON', () => {
    const tool = {
      name: 't',
      inputSchema: {
        type: 'object',
        properties: { n: { type: 'integer' }, s: { type: 'string' }, b: { type: 'boolean' } },
      },
    };
    expect(buildArguments(['n=3', 's=42', 'b=true', 'o={"a":1}'], undefined, tool)).toEqual({
      n: 3,
      s: '42',
      b: true,
      o: { a: 1 },
    });
    expect(() => buildArguments(['novalue'], undefined, tool)).toThrow(/key=value/);
  });
});
