import { McpServer } from 'anywire';
import { z } from 'zod';

const server = new McpServer({ name: 'anywire-everything', version: '0.1.0' });
server.registerTool(
  'echo',
  { description: 'Echoes the text back', inputSchema: z.object({ text: z.string() }) },
  ({ text }) => ({
    content: [{ type: 'text', text }],
  }),
);
export default server;
