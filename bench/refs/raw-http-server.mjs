// The HTTP limit: node:http answering every POST with a fixed JSON-RPC result (a tools/call echo
// result for tools/call), no MCP library. usage: node bench/refs/raw-http-server.mjs PORT
import { createServer } from 'node:http';

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let msg;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (msg.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const result =
      msg.method === 'tools/call' ? { content: [{ type: 'text', text: msg.params?.arguments?.text }] } : {};
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
