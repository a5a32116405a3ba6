/**
 * Issue 12 item 7: `anywire serve` in dev mode (--watch), with --cors, staying up when stdin
 * closes while other bindings serve, and saying what shutdown waits for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anywire, freePort, start } from './cli-run.js';
import { BIN, EVERYTHING, modernToolCall, ROOT } from './helpers.js';

const modernCall = (url: string, name: string, extra: Record<string, string> = {}) =>
  modernToolCall(url, name, undefined, { headers: extra });

describe('anywire serve --watch', () => {
  it('restarts when the module or a file it imports changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anywire-watch-'));
    try {
      writeFileSync(join(dir, 'word.ts'), "export const word: string = 'one';\n");
      writeFileSync(
        join(dir, 'server.ts'),
        `import { McpServer } from ${JSON.stringify(`${ROOT}dist/index.js`)};\nimport { word } from './word.js';\nconst s = new McpServer({ name: 'watched', version: '1.0.0' });\ns.registerTool('word', { description: 'the word' }, () => word);\nexport default s;\n`,
      );
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/mcp`;
      const s = await start(
        ['serve', join(dir, 'server.ts'), '--http', String(port), '--watch'],
        /watching \d+ files?[\s\S]*serving watched|serving watched[\s\S]*watching \d+ files?/,
      );
      try {
        expect((await anywire(['call', url, 'word'])).stdout).toBe('one\n');
        writeFileSync(join(dir, 'word.ts'), "export const word: string = 'two';\n");
        const deadline = Date.now() + 45_000;
        let seen = '';
        while (Date.now() < deadline) {
          seen = (await anywire(['call', url, 'word'])).stdout;
          if (seen === 'two\n') break;
          await new Promise((r) => setTimeout(r, 250));
        }
        expect(seen).toBe('two\n');
        expect(s.stderr()).toContain('word.ts changed; restarting');
      } finally {
        expect(await s.stop()).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('anywire serve --cors', () => {
  it('answers an allowed origin with CORS headers; other origins get none', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    const s = await start(
      ['serve', EVERYTHING, '--http', String(port), '--cors', 'https://app.example'],
      /http:\/\/127\.0\.0\.1:\d+\/mcp/,
    );
    try {
      const pre = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const r = await modernCall(url, 'echo', { origin: 'https://app.example' });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const other = await modernCall(url, 'echo', { origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await s.stop();
    }
  });
});

describe('anywire serve: stdin and shutdown', () => {
  it('with other bindings, EOF on stdin ends only stdio: started in the background it keeps serving', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    // As `npx anywire serve ... --stdio --http PORT &` in a script: stdin is at EOF from the start.
    const s = await start(
      ['serve', EVERYTHING, '--stdio', '--http', String(port)],
      /stdin closed; the stdio binding ended, 1 other binding keeps serving \(stop with Ctrl-C or kill \d+\)/,
      { stdin: 'ignore' },
    );
    try {
      expect((await anywire(['call', url, 'echo', 'text=still here'])).stdout).toBe('still here\n');
    } finally {
      expect(await s.stop()).toBe(0);
    }
    expect(s.stderr()).toContain('SIGTERM; shutting down');
    expect(s.stderr()).toContain(`closing ${url}`);
  });

  it('stdio alone: EOF ends the process, status 0', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', EVERYTHING], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end();
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });

  it('shutdown says it waits for requests in flight', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    const s = await start(
      ['serve', `${ROOT}test/fixtures/cli-env-server.ts`, '--http', String(port)],
      /http:\/\/127\.0\.0\.1:\d+\/mcp/,
    );
    const call = modernCall(url, 'slow');
    await new Promise((r) => setTimeout(r, 500)); // the tool (2 s) is now running
    const code = s.stop();
    const r = await call;
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('slow answer');
    expect(await code).toBe(0);
    expect(s.stderr()).toMatch(/SIGTERM; waiting for 1 request in flight \(up to 5000 ms\)/);
  });
});
