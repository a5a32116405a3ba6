// The cold-start subject: one `echo` tool, as a plain ES module (no build step, no tsx).
import { McpServer } from 'anywire';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, ({ text }) => text);
export default server;
