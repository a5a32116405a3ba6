/**
 * `anywire bridge`: any MCP server reachable on one wire, exposed on others, with everything
 * crossing: both eras, sampling, elicitation, roots, progress, cancellation and notifications.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport as V1WebSocket } from '@modelcontextprotocol/sdk/client/websocket.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import { BIN, ROOT } from './helpers.js';
import { elicited, exercise, oneMessagePerTurn, sampled } from './sdk-exercise.js';
import type { AnyClient } from './sdk-exercise.js';

const EVERYTHING_STDIO = [
  process.execPath,
  `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`,
  'stdio',
];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

/** Starts `anywire bridge ...` and resolves with the endpoint URLs it prints. */
async function startBridge(args: string[]): Promise<string[]> {
  const child = spawn(process.execPath, [BIN, 'bridge', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bridge did not start: ${err}`)), 20_000);
    child.stderr!.on('data', (d) => {
      err += d;
      const urls = [...err.matchAll(/\s((?:https?|wss?|tcp|tls|grpcs?|mqtts?):\/\/\S+|unix:\S+)/g)].map(
        (m) => m[1]!,
      );
      if (urls.length >= args.filter((a) => a === '--to').length && /bridging/.test(err)) {
        clearTimeout(t);
        resolve(urls);
      }
    });
    child.once('exit', (code) => reject(new Error(`bridge exited ${code}: ${err}`)));
  });
}

describe('anywire bridge', () => {
  it('server-everything on WebSocket and HTTP at once: the SDK v1 WebSocket client and the v2 HTTP client, sampling included', async () => {
    const [ws, http] = await startBridge([
      '--to',
      'ws://127.0.0.1:0/mcp',
      '--to',
      'http://127.0.0.1:0/mcp',
      '-q',
      '--',
      ...EVERYTHING_STDIO,
    ]);
    expect(ws).toMatch(/^ws:\/\//);
    expect(http).toMatch(/^http:\/\//);
    // The v1 SDK uses the global WebSocket (Node 22+); on Node 20 lend it ws's.
    const g = globalThis as { WebSocket?: unknown };
    const previous = g.WebSocket;
    if (!previous) g.WebSocket = WebSocket;
    try {
      const v1 = new V1Client({ name: 'sdk-v1-ws', version: '1.0.0' }, { capabilities: { sampling: {} } });
      v1.setRequestHandler(CreateMessageRequestSchema, async () => sampled);
      await v1.connect(new V1WebSocket(new URL(ws!)));
      expect((await v1.callTool({ name: 'echo', arguments: { message: 'over ws' } })).content).toEqual([
        { type: 'text', text: 'Echo: over ws' },
      ]);
      const s1 = await v1.callTool({
        name: 'trigger-sampling-request',
        arguments: { prompt: 'hi', maxTokens: 5 },
      });
      expect(JSON.stringify(s1.content)).toContain('sampled by the client');
      await v1.close();
    } finally {
      if (!previous) delete g.WebSocket;
    }
    const v2 = new V2Client({ name: 'sdk-v2-http', version: '1.0.0' }, { capabilities: { sampling: {} } });
    v2.setRequestHandler('sampling/createMessage', async () => sampled);
    await v2.connect(new V2Http(new URL(http!)));
    const s2 = await v2.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hi', maxTokens: 5 },
    });
    expect(JSON.stringify(s2.content)).toContain('sampled by the client');
    await v2.close();
  });

  it('a stdio server (server-everything) as Streamable HTTP: the v2 client uses it, sampling included', async () => {
    const [url] = await startBridge(['--to', 'http://127.0.0.1:0/mcp', '-q', '--', ...EVERYTHING_STDIO]);
    for (const mode of ['legacy', 'auto'] as const) {
      const client = new V2Client(
        { name: 'via-bridge', version: '1.0.0' },
        { capabilities: { sampling: {} }, versionNegotiation: { mode } },
      );
      const asked: unknown[] = [];
      client.setRequestHandler('sampling/createMessage', async (req) => {
        asked.push(req.params);
        return sampled;
      });
      await client.connect(new V2Http(new URL(url!)));
      // server-everything is a legacy server: the modern probe falls back to initialize through the bridge.
      expect(client.getNegotiatedProtocolVersion?.()).toBe('2025-11-25');
      expect((await client.callTool({ name: 'echo', arguments: { message: 'across' } })).content).toEqual([
        { type: 'text', text: 'Echo: across' },
      ]);
      const s = await client.callTool({
        name: 'trigger-sampling-request',
        arguments: { prompt: 'hi', maxTokens: 5 },
      });
      expect(JSON.stringify(s.content)).toContain('sampled by the client');
      expect(asked).toHaveLength(1);
      const progress: number[] = [];
      await client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(progress).toEqual([1, 2, 3]);
      await client.close();
    }
  });

  it('a remote HTTP server as local stdio for a desktop client, in both eras', async () => {
    const http = await serveHttp(createEverythingServer(), { port: 0 });
    try {
      for (const mode of ['legacy', 'auto'] as const) {
        const client = new V2Client(
          { name: 'desktop', version: '1.0.0' },
          { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode } },
        );
        client.setRequestHandler('sampling/createMessage', async () => sampled);
        client.setRequestHandler('elicitation/create', async () => elicited);
        await client.connect(
          oneMessagePerTurn(
            new V2Stdio({
              command: process.execPath,
              args: [BIN, 'bridge', http.url, '--to', 'stdio'],
              stderr: 'pipe',
            }),
          ),
        );
        expect(client.getNegotiatedProtocolVersion?.()).toBe(mode === 'auto' ? '2026-07-28' : '2025-11-25');
        await exercise(client as unknown as AnyClient, (name, args, opts) =>
          client.callTool({ name, arguments: args as any }, opts),
        );
        await client.close();
      }
    } finally {
      await http.close();
    }
  });

  it('--shared: two clients on one upstream child, ids remapped, each gets its own answers and sampling requests', async () => {
    const [url] = await startBridge([
      '--to',
      'http://127.0.0.1:0/mcp',
      '--shared',
      '-q',
      '--',
      ...EVERYTHING_STDIO,
    ]);
    const clients = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const c = new V2Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
        c.setRequestHandler('sampling/createMessage', async () => ({
          ...sampled,
          content: { type: 'text', text: `sampled by ${name}` },
        }));
        await c.connect(new V2Http(new URL(url!)));
        return c;
      }),
    );
    // Concurrent calls from both clients reuse JSON-RPC ids on the shared upstream: no cross-delivery.
    const echoes = await Promise.all(
      clients.flatMap((c, i) =>
        [1, 2, 3].map((n) => c.callTool({ name: 'echo', arguments: { message: `${i}-${n}` } })),
      ),
    );
    expect(echoes.map((r) => (r.content as { text: string }[])[0]!.text)).toEqual(
      ['0-1', '0-2', '0-3', '1-1', '1-2', '1-3'].map((m) => `Echo: ${m}`),
    );
    const s = await clients[1]!.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hi', maxTokens: 5 },
    });
    expect(JSON.stringify(s.content)).toContain('sampled by b');
    await Promise.all(clients.map((c) => c.close()));
  });
});
