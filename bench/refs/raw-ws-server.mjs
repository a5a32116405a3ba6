// The WebSocket limit: ws answering every frame with a fixed JSON-RPC result (a tools/call echo
// result for tools/call), no MCP library. usage: node bench/refs/raw-ws-server.mjs PORT
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2]) });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id === undefined) return;
    const result =
      msg.method === 'tools/call' ? { content: [{ type: 'text', text: msg.params?.arguments?.text }] } : {};
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
  });
});
