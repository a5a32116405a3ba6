/**
 * `anywire serve ... --stdio` as a child process, spoken to line by line: bad input gets the right
 * JSON-RPC error, the server keeps serving, and stdout carries nothing but protocol messages.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, EVERYTHING, ROOT, waitFor } from './helpers.js';

interface Proc {
  child: ChildProcessWithoutNullStreams;
  send(line: string): void;
  next(): Promise<any>;
  stdoutLines: string[];
  stderr: () => string;
}

const procs: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill();
});

function start(module: string, extra: string[] = []): Proc {
  const child = spawn(process.execPath, [BIN, 'serve', module, '--stdio', ...extra], { stdio: 'pipe' });
  procs.push(child);
  const stdoutLines: string[] = [];
  const queue: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdoutLines.push(line);
    const m = JSON.parse(line); // throws (fails the test) on anything that is not JSON
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return {
    child,
    stdoutLines,
    stderr: () => err,
    send: (line) => child.stdin.write(`${line}\n`),
    next: () =>
      queue.length
        ? Promise.resolve(queue.shift())
        : new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`no answer; stderr: ${err}`)), 10_000);
            waiters.push((m) => {
              clearTimeout(t);
              resolve(m);
            });
          }),
  };
}

const init = (id: number, version = '2025-11-25') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
const echo = (id: number | string, text = 'ok') =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

describe('stdio server: bad input', () => {
  it('answers each bad line with the right error and keeps serving', async () => {
    const p = start(EVERYTHING, ['--max-message-bytes', '2048']);
    // A request before initialize (legacy era).
    p.send(echo(1));
    expect(await p.next()).toMatchObject({ id: 1, error: { code: -32600 } });
    p.send(init(2));
    expect(await p.next()).toMatchObject({
      id: 2,
      result: { protocolVersion: '2025-11-25', serverInfo: { name: 'anywire-everything' } },
    });
    p.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');

    const cases: [string, number, number | string | null][] = [
      ['{not json', -32700, null],
      [`[${echo(10)},${echo(11)}]`, -32600, null], // batches exist only in 2025-03-26
      ['42', -32600, null],
      ['"a string"', -32600, null],
      ['{"jsonrpc":"2.0","id":null,"method":"tools/list"}', -32600, null],
      ['{"jsonrpc":"2.0","id":12,"method":"no/such/method"}', -32601, 12],
      [
        `{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(3000)}"}}}`,
        -32600,
        null,
      ],
      ['{"jsonrpc":"2.0","id":14,"method":"tools/call","params":"wrong"}', -32600, 14],
      ['{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":5}}', -32602, 15],
      ['{"jsonrpc":"2.0","id":16,"method":"tools/call","params":[1,2]}', -32602, 16],
      ['{"jsonrpc":"2.0","id":17,"method":"resources/read","params":{"uri":"test://nope"}}', -32002, 17],
    ];
    let n = 100;
    for (const [line, code, id] of cases) {
      p.send(line);
      const answer = await p.next();
      expect(answer, line.slice(0, 80)).toMatchObject({ jsonrpc: '2.0', id, error: { code } });
      p.send(echo(n, `after ${code}`));
      expect(await p.next()).toMatchObject({
        id: n,
        result: { content: [{ type: 'text', text: `after ${code}` }] },
      });
      n++;
    }
    // Invalid tool arguments are a tool execution error, not a protocol error (SEP-1303).
    p.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'x',
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 7 } },
      }),
    );
    expect(await p.next()).toMatchObject({ id: 'x', result: { isError: true } });
    for (const line of p.stdoutLines) expect(JSON.parse(line).jsonrpc).toBe('2.0');
  });

  it('accepts batches in protocol revision 2025-03-26', async () => {
    const p = start(EVERYTHING);
    p.send(init(1, '2025-03-26'));
    expect(await p.next()).toMatchObject({ id: 1, result: { protocolVersion: '2025-03-26' } });
    p.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    p.send(
      `[${echo(2, 'a')},${echo(3, 'b')},{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":9,"progress":1}}]`,
    );
    const batch = await p.next();
    expect(Array.isArray(batch)).toBe(true);
    expect(batch.map((m: any) => [m.id, m.result.content[0].text]).sort()).toEqual([
      [2, 'a'],
      [3, 'b'],
    ]);
  });

  it('keeps stdout for the protocol when a tool writes to it', async () => {
    const p = start(`${ROOT}test/fixtures/noisy-server.ts`);
    p.send(init(1));
    await p.next();
    p.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    p.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'shout', arguments: {} },
      }),
    );
    expect(await p.next()).toMatchObject({
      id: 2,
      result: { content: [{ type: 'text', text: 'quiet answer' }] },
    });
    expect(p.stdoutLines).toHaveLength(2);
    await waitFor('both stray lines on stderr', p.stderr, (e) => e.includes('neither must this one'));
    expect(p.stderr()).toContain('this line must not reach the protocol stream');
    expect(p.stderr()).toContain('neither must this one');
  });

  it('serves modern requests without a handshake and exits promptly on stdin EOF', async () => {
    const p = start(EVERYTHING);
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }));
    expect(await p.next()).toMatchObject({
      id: 1,
      result: {
        resultType: 'complete',
        supportedVersions: expect.arrayContaining(['2026-07-28', '2025-11-25']),
      },
    });
    p.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping', params: { _meta: meta } }));
    expect(await p.next()).toMatchObject({ id: 2, error: { code: -32601 } });
    p.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      }),
    );
    expect(await p.next()).toMatchObject({
      id: 3,
      error: { code: -32022, data: { requested: '2099-01-01' } },
    });
    const started = Date.now();
    const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
    p.child.stdin.end();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
