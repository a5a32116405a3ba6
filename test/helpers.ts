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
