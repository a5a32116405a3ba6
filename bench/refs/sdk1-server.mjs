// The official TypeScript SDK v1 (@modelcontextprotocol/sdk, a devDependency) with one `echo` tool.
// usage: node bench/refs/sdk1-server.mjs stdio | http PORT (sessionful Streamable HTTP at /mcp)
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

function echoServer() {
  const server = new McpServer({ name: 'sdk1-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'echo', inputSchema: { text: z.string() } },
    async ({ text }) => ({
      content: [{ type: 'text', text }],
    }),
  );
  return server;
}

const [mode, port] = process.argv.slice(2);
if (mode === 'stdio') {
  await echoServer().connect(new StdioServerTransport());
} else if (mode === 'http') {
  const { StreamableHTTPServerTransport } =
    await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const sessions = new Map();
  const body = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined));
      req.on('error', reject);
    });
  createServer(async (req, res) => {
    const parsed = req.method === 'POST' ? await body(req) : undefined;
    let transport = sessions.get(req.headers['mcp-session-id']);
    if (!transport) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      await echoServer().connect(transport);
    }
    await transport.handleRequest(req, res, parsed);
  }).listen(Number(port), '127.0.0.1');
} else {
  console.error('usage: sdk1-server.mjs stdio | http PORT');
  process.exit(2);
}
