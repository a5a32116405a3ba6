import WebSocket from 'ws';
import { serveWebSocket, WebSocketClientTransport } from '../../src/transports/websocket/index.js';
import type { MatrixBinding } from './types.js';

const MAX = 65536;

/** WebSocket: serveWebSocket on 127.0.0.1, the anywire client transport (ws on Node 20). */
export const binding: MatrixBinding = {
  name: 'websocket',
  eras: ['legacy', 'modern'],
  identities: true,
  async start(server, options = {}) {
    const handle = await serveWebSocket(server, {
      port: 0,
      path: '/mcp',
      maxMessageBytes: MAX,
      authenticator: options.authenticator,
    });
    return {
      connect: (authorization) =>
        new WebSocketClientTransport(handle.url, authorization ? { headers: { authorization } } : {}),
      stop: () => handle.close(),
      maxMessageBytes: MAX,
      raw: (frame) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(handle.url, ['mcp']);
          ws.once('error', reject);
          ws.once('open', () => ws.send(frame));
          ws.once('message', (data) => {
            ws.close();
            resolve(JSON.parse(data.toString()));
          });
        }),
    };
  },
};
