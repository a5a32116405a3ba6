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
import { elicited, exercise, oneMessagePerTurn, sampled } from './sdk-exercise.js';
import type { AnyClient } from './sdk-exercise.js';

const params = { command: process.execPath, args: SERVE_EVERYTHING, stderr: 'pipe' as const };

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
    await client.connect(oneMessagePerTurn(new V1Stdio(params)));
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
      await client.connect(oneMessagePerTurn(new V2Stdio(params)));
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
