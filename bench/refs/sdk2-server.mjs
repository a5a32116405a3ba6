// The official TypeScript SDK v2 (@modelcontextprotocol/server, a devDependency) with one `echo`
// tool. usage: node bench/refs/sdk2-server.mjs stdio | http PORT (createMcpHandler at any path)
import { createServer } from 'node:http';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const echoServer = () => {
  const server = new McpServer({ name: 'sdk2-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'echo', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({
      content: [{ type: 'text', text }],
    }),
  );
  return server;
};

const [mode, port] = process.argv.slice(2);
if (mode === 'stdio') {
  const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
  await serveStdio(echoServer);
} else if (mode === 'http') {
  const { toNodeHandler } = await import('@modelcontextprotocol/node');
  createServer(toNodeHandler(createMcpHandler(echoServer))).listen(Number(port), '127.0.0.1');
} else {
  console.error('usage: sdk2-server.mjs stdio | http PORT');
  process.exit(2);
}
