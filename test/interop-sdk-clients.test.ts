/**
 * The official SDK clients (v1 1.32.2; v2 2.4.0 in its default legacy mode and with modern-era
 * negotiation) against `anywire serve examples/everything/server.ts --stdio`.
 */
import { Client as V2Client } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1Stdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVE_EVERYTHING } from './helpers.js';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const params = { command: process.execPath, args: SERVE_EVERYTHING, stderr: 'pipe' as const };
const sampled = {
  role: 'assistant' as const,
  content: { type: 'text' as const, text: 'sampled by the client' },
  model: 'test-model',
};
const elicited = { action: 'accept' as const, content: { username: 'ada', email: 'ada@example.com' } };

interface AnyClient {
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: object, schema?: unknown, o?: object): Promise<any>;
  readResource(p: object): Promise<any>;
  getPrompt(p: object): Promise<any>;
  close(): Promise<void>;
}

/** The checks every client must pass; outputs asserted exactly. */
async function exercise(
  client: AnyClient,
  callTool: (name: string, args: object, opts?: object) => Promise<any>,
) {
  const tools = (await client.listTools()).tools.map((t) => t.name);
  expect(tools).toEqual(
    expect.arrayContaining(['test_simple_text', 'test_sampling', 'test_elicitation', 'echo']),
  );
  expect((await callTool('test_simple_text', {})).content).toEqual([
    { type: 'text', text: 'This is a simple text response for testing.' },
  ]);
  expect((await callTool('echo', { text: 'héllo wire' })).content).toEqual([
    { type: 'text', text: 'héllo wire' },
  ]);
  expect((await callTool('test_image_content', {})).content).toEqual([
    { type: 'image', data: PNG, mimeType: 'image/png' },
  ]);
  const err = await callTool('test_error_handling', {});
  expect(err.isError).toBe(true);
  expect(err.content).toEqual([
    { type: 'text', text: 'This tool intentionally returns an error for testing' },
  ]);
  expect((await client.readResource({ uri: 'test://static-text' })).contents).toEqual([
    {
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    },
  ]);
  expect((await client.readResource({ uri: 'test://template/42/data' })).contents).toEqual([
    {
      uri: 'test://template/42/data',
      mimeType: 'application/json',
      text: '{"id":"42","templateTest":true,"data":"Data for ID: 42"}',
    },
  ]);
  expect(
    (await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } }))
      .messages,
  ).toEqual([{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='a', arg2='b'" } }]);
  const progress: number[] = [];
  const p = await callTool(
    'test_tool_with_progress',
    {},
    { onprogress: (x: { progress: number }) => progress.push(x.progress) },
  );
  expect(progress).toEqual([0, 50, 100]);
  expect(p.content[0].type).toBe('text');
  expect(p.content[0].text).not.toBe('no-progress-token');
  expect((await callTool('test_sampling', { prompt: 'Say hi' })).content).toEqual([
    { type: 'text', text: 'LLM response: sampled by the client' },
  ]);
  expect((await callTool('test_elicitation', { message: 'Who are you?' })).content).toEqual([
    {
      type: 'text',
      text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}',
    },
  ]);
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('official SDK clients over stdio', () => {
  it('v1 Client (@modelcontextprotocol/sdk 1.32.2)', async () => {
    const client = new V1Client(
      { name: 'sdk-v1', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} } },
    );
    const samplingRequests: unknown[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      samplingRequests.push(req.params);
      return sampled;
    });
    client.setRequestHandler(ElicitRequestSchema, async () => elicited);
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
      logs.push(n.params.data);
    });
    await client.connect(new V1Stdio(params));
    close = () => client.close();
    expect(client.getServerVersion()).toEqual({ name: 'anywire-everything', version: '0.1.0' });
    await exercise(client as unknown as AnyClient, (name, args, opts) =>
      client.callTool({ name, arguments: args as any }, undefined, opts),
    );
    expect(samplingRequests).toEqual([
      { messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 100 },
    ]);
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);
    await client.setLoggingLevel('error');
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    expect(logs).toHaveLength(3);
    expect(await client.ping()).toEqual({});
  });

  for (const mode of ['legacy', 'auto'] as const) {
    it(`v2 Client (@modelcontextprotocol/client 2.4.0), versionNegotiation ${mode}`, async () => {
      const client = new V2Client(
        { name: 'sdk-v2', version: '1.0.0' },
        { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode } },
      );
      client.setRequestHandler('sampling/createMessage', async () => sampled);
      client.setRequestHandler('elicitation/create', async () => elicited);
      const logs: unknown[] = [];
      client.setNotificationHandler('notifications/message', async (n) => {
        logs.push(n.params.data);
      });
      await client.connect(new V2Stdio(params));
      close = () => client.close();
      expect(client.getServerVersion()).toMatchObject({ name: 'anywire-everything', version: '0.1.0' });
      expect(client.getNegotiatedProtocolVersion?.() ?? (client as any).getProtocolVersion?.()).toBe(
        mode === 'auto' ? '2026-07-28' : '2025-11-25',
      );
      await exercise(client as unknown as AnyClient, (name, args, opts) =>
        client.callTool({ name, arguments: args as any }, opts),
      );
      const logMeta = mode === 'auto' ? { 'io.modelcontextprotocol/logLevel': 'info' } : undefined;
      if (mode === 'legacy') await client.setLoggingLevel('info');
      await client.callTool({
        name: 'test_tool_with_logging',
        arguments: {},
        ...(logMeta ? { _meta: logMeta } : {}),
      });
      expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);
    });
  }
});
