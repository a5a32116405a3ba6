// The stdio limit: every newline-delimited JSON-RPC request on stdin gets a fixed result on stdout
// (a tools/call result for tools/call, an empty object otherwise). No MCP library.
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg.id === undefined || msg.method === undefined) return;
  const result =
    msg.method === 'tools/call'
      ? { content: [{ type: 'text', text: msg.params?.arguments?.text ?? '' }] }
      : msg.method === 'initialize'
        ? {
            protocolVersion: msg.params.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: 'raw', version: '0' },
          }
        : {};
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result })}\n`);
});
