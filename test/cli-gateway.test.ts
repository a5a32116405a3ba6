/**
 * Issue 12 item 8: `anywire bridge --config mcp.json`, one gateway for many servers. Two stdio
 * servers (the everything example served by the CLI, and the official server-everything) and one
 * remote HTTP server that wants a header, each exposed under its own path on HTTP and WebSocket,
 * used by the official SDK v2 client (HTTP) and the SDK v1 WebSocket client on every path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport as V1WebSocket } from '@modelcontextprotocol/sdk/client/websocket.js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { anywire, start } from './cli-run.js';
import { BIN, EVERYTHING, ROOT } from './helpers.js';

const OFFICIAL = `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;

describe('anywire bridge --config', () => {
  let remote: HttpServerHandle;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    // The SDK v1 WebSocket client expects a global WebSocket (Node 20 has none).
    const g = globalThis as { WebSocket?: unknown };
    g.WebSocket ??= WebSocket;
    remote = await serveHttp(createEverythingServer(), {
      port: 0,
      authenticate: (h) => {
        if (h['x-api-key'] !== 'k1') throw Object.assign(new Error('bad key'), { status: 401 });
        return { subject: 'gateway', token: 'k1' };
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'anywire-gateway-'));
    config = join(dir, 'mcp.json');
    writeFileSync(
      config,
      JSON.stringify({
        mcpServers: {
          anywire: { command: process.execPath, args: [BIN, 'serve', EVERYTHING], env: { UNUSED: '1' } },
          official: { command: process.execPath, args: [OFFICIAL, 'stdio'] },
          remote: { url: remote.url, headers: { 'X-Api-Key': 'k1' } },
        },
      }),
    );
  });
  afterAll(async () => {
    await remote.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exposes every server under /<name>/mcp on HTTP and WebSocket; the SDK clients use each path', async () => {
    const g = await start(
      ['bridge', '--config', config, '--to', 'http://127.0.0.1:0', '--to', 'ws://127.0.0.1:0', '-q'],
      /remote websocket +(ws:\/\/127\.0\.0\.1:\d+)\/remote\/mcp/,
      { timeoutMs: 60_000 },
    );
    try {
      const base = g.match[1]!.replace('ws:', 'http:');
      const table = g.stderr();
      expect(table).toContain('gateway for 3 servers');
      for (const name of ['anywire', 'official', 'remote']) {
        expect(table).toContain(`${base}/${name}/mcp`);
        expect(table).toContain(`${g.match[1]}/${name}/mcp`);
      }
      const echo = {
        anywire: ['text', 'hello'],
        official: ['message', 'Echo: hello'],
        remote: ['text', 'hello'],
      };
      for (const [name, [arg, expected]] of Object.entries(echo)) {
        const v2 = new V2Client({ name: 'v2', version: '1.0.0' });
        await v2.connect(new V2Http(new URL(`${base}/${name}/mcp`)));
        const tools = (await v2.listTools()).tools.map((t) => t.name);
        expect(tools).toContain('echo');
        const r = await v2.callTool({ name: 'echo', arguments: { [arg!]: 'hello' } });
        expect(r.content).toEqual([{ type: 'text', text: expected }]);
        await v2.close();

        const v1 = new V1Client({ name: 'v1', version: '1.0.0' });
        await v1.connect(new V1WebSocket(new URL(`${g.match[1]}/${name}/mcp`)));
        const w = await v1.callTool({ name: 'echo', arguments: { [arg!]: 'hello' } });
        expect(w.content).toEqual([{ type: 'text', text: expected }]);
        await v1.close();
      }
      const cli = await anywire(['call', `${base}/official/mcp`, 'get-sum', 'a=2', 'b=40']);
      expect(cli.stdout).toContain('42');
      const unknown = await fetch(`${base}/nobody/mcp`, { method: 'POST' });
      expect(unknown.status).toBe(404);
    } finally {
      expect(await g.stop()).toBe(0);
    }
  });

  it('a server of the file that cannot start fails the gateway at start, naming it', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        mcpServers: {
          good: { command: process.execPath, args: [BIN, 'serve', EVERYTHING] },
          broken: { command: process.execPath, args: ['-e', 'process.exit(4)'] },
        },
      }),
    );
    const r = await anywire(['bridge', '--config', bad, '--to', 'http://127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 2 servers failed:\n\s+broken: the server \(.*\) exited: exit code 4/);
    const none = await anywire([
      'bridge',
      '--config',
      join(dir, 'missing.json'),
      '--to',
      'http://127.0.0.1:0',
    ]);
    expect(none.stderr).toContain('cannot read');
  });
});
