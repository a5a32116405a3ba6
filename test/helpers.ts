import type { ClientOptions } from '../src/client/client.js';
import { Client } from '../src/client/client.js';
import type { McpServer } from '../src/server/mcp-server.js';
import { InMemoryTransport } from '../src/transports/in-memory/index.js';

/** Connects a new client to `server` over an in-memory pair. */
export async function connectPair(server: McpServer, options: ClientOptions = {}): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { probeTimeoutMs: 1000, ...options });
  await client.connect(a);
  return client;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The anywire binary. */
export const BIN = `${ROOT}bin/anywire.js`;
/** The everything example server. */
export const EVERYTHING = `${ROOT}examples/everything/server.ts`;
/** argv that serves the everything server on stdio. */
export const SERVE_EVERYTHING = [BIN, 'serve', EVERYTHING, '--stdio'];

/** `_meta` of a stateless 2026-07-28 request: the protocol version, no client capabilities. */
export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/**
 * POSTs a stateless 2026-07-28 `tools/call` of `name` (with `args` when given) to `url`, with the
 * headers Streamable HTTP requires (MCP-Protocol-Version, Mcp-Method, Mcp-Name); `options.headers`
 * and `options.meta` are added to the request's own.
 */
export function modernToolCall(
  url: string,
  name: string,
  args?: Record<string, unknown>,
  options: { headers?: Record<string, string>; meta?: Record<string, unknown> } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
      ...options.headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, ...(args ? { arguments: args } : {}), _meta: { ...MODERN_META, ...options.meta } },
    }),
  });
}

/**
 * Polls `probe` every 20 ms until `done` holds on its value, for at most `ms` (default 20 000);
 * resolves with that value; the error names what it waited for and the last value.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  done: (v: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(20);
  }
}

/** The headers every later request of a legacy (2025-11-25) Streamable HTTP session carries. */
export interface LegacySessionHeaders extends Record<string, string> {
  'mcp-session-id': string;
  'mcp-protocol-version': string;
}

/**
 * Opens a legacy 2025-11-25 session on the Streamable HTTP endpoint `url` with one raw `initialize`
 * POST (no client capabilities) and reads its answer; returns the session's headers.
 */
export async function openLegacySession(url: string): Promise<LegacySessionHeaders> {
  const init = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  await init.text();
  return { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
}
