/**
 * anywire's Client against servers nobody here wrote, over stdio:
 * `@modelcontextprotocol/server-everything` (legacy era) and an official SDK v2 server (modern era).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { StdioClientTransport } from '../src/transports/stdio/client.js';
import { ROOT } from './helpers.js';

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('anywire Client against official servers over stdio', () => {
  it('@modelcontextprotocol/server-everything (legacy era)', async () => {
    const sampled: unknown[] = [];
    const progress: number[] = [];
    client = new Client(
      { name: 'anywire-test', version: '1.0.0' },
      {
        handlers: {
          sampling: async (params) => {
            sampled.push(params);
            return {
              role: 'assistant',
              content: { type: 'text', text: 'a sampled answer' },
              model: 'test-model',
            };
          },
          elicitation: async () => ({ action: 'accept', content: { color: 'blue' } }),
          roots: async () => [{ uri: 'file:///work', name: 'work' }],
        },
      },
    );
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [`${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'stdio'],
        stderr: 'ignore',
      }),
    );
    expect(client.era).toBe('legacy');
    expect(client.serverInfo?.name).toMatch(/everything/);
    const tools = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']),
    );
    expect(await client.callTool('echo', { message: 'hi' })).toMatchObject({
      content: [{ type: 'text', text: 'Echo: hi' }],
    });
    expect((await client.callTool('get-sum', { a: 2, b: 3 })).content[0]).toMatchObject({
      type: 'text',
      text: expect.stringContaining('5'),
    });
    const long = await client.callTool(
      'trigger-long-running-operation',
      { duration: 1, steps: 3 },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(long.isError).toBeFalsy();
    expect(progress).toEqual([1, 2, 3]);
    const resources = await client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const read = await client.readResource(resources[0]!.uri);
    expect(read.contents[0]!.uri).toBe(resources[0]!.uri);
    const prompts = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('simple-prompt');
    expect((await client.getPrompt('simple-prompt')).messages.length).toBeGreaterThan(0);
    // These tools are registered because the client declared sampling, elicitation and roots.
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list']),
    );
    const s = await client.callTool('trigger-sampling-request', { prompt: 'hello', maxTokens: 10 });
    expect(JSON.stringify(s.content)).toContain('a sampled answer');
    expect(sampled).toEqual([
      expect.objectContaining({ maxTokens: 10, messages: [expect.objectContaining({ role: 'user' })] }),
    ]);
    const e = await client.callTool('trigger-elicitation-request', {});
    expect(e.isError).toBeFalsy();
    expect(JSON.stringify(e.content)).toContain('blue');
    const roots = await client.callTool('get-roots-list', {});
    expect(JSON.stringify(roots.content)).toContain('file:///work');
  });

  it('official SDK v2 server (modern era, MRTR through the client handler)', async () => {
    const asked: string[] = [];
    client = new Client(
      { name: 'anywire-test', version: '1.0.0' },
      {
        handlers: {
          elicitation: async (params) => {
            asked.push(params.message);
            return { action: 'accept', content: { ok: true } };
          },
        },
      },
    );
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [`${ROOT}test/fixtures/sdk2-stdio-server.mjs`],
        stderr: 'ignore',
      }),
    );
    expect(client.era).toBe('modern');
    expect(client.protocolVersion).toBe('2026-07-28');
    expect(client.serverInfo).toMatchObject({ name: 'sdk2-fixture' });
    expect((await client.listTools()).map((t) => t.name)).toEqual(['greet', 'confirm']);
    expect(await client.callTool('greet', { name: 'Ada' })).toMatchObject({
      content: [{ type: 'text', text: 'Hello, Ada!' }],
    });
    expect(await client.callTool('confirm', { what: 'deploy' })).toMatchObject({
      content: [{ type: 'text', text: 'deploy: confirmed' }],
    });
    expect(asked).toEqual(['Really deploy?']);
    expect((await client.readResource('fixture://readme')).contents).toEqual([
      { uri: 'fixture://readme', mimeType: 'text/plain', text: 'read me' },
    ]);
    expect((await client.getPrompt('hello', { who: 'you' })).messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'hello you' } },
    ]);
  });
});
