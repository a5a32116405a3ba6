// The everything server over the WebSocket binding, for bench/run.mjs (the ws rows).
// usage: npm run build && node bench/serve-ws.mjs PORT   (listens on ws://127.0.0.1:PORT/, any path)
// (bench/load.mjs --kind ws ws://127.0.0.1:PORT/mcp drives it.)
import { tsImport } from 'tsx/esm/api';
import { serveWebSocket } from '../dist/transports/websocket/index.js';

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error('usage: node bench/serve-ws.mjs PORT');
  process.exit(2);
}
const example = new URL('../examples/everything/server.ts', import.meta.url).href;
const { createEverythingServer } = await tsImport(example, import.meta.url);
const handle = await serveWebSocket(createEverythingServer(), { host: '127.0.0.1', port });
console.error(`serve-ws: ${handle.url}`);
const stop = () => handle.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
