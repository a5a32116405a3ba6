// The everything server over the WebSocket binding, for ../shared/bench/ratio.mjs --kind ws.
// usage: npm run build && node bench/serve-ws.mjs PORT   (listens on ws://127.0.0.1:PORT/, any path)
// e.g. (from ../shared/bench): node ratio.mjs --kind ws --ref 'node raw-ws-server.mjs {port}' \
//        --cand 'node /work/main/bench/serve-ws.mjs {port}' [--era modern]
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
