// The cold-start subject as TypeScript: loaded through tsx by `anywire serve`.
import { McpServer } from 'anywire';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
server.registerTool(
  'echo',
  { description: 'echo', inputSchema: { text: z.string() } },
  ({ text }: { text: string }) => text,
);
export default server;
