import { StreamableHttpClientTransport } from '../../src/transports/streamable-http/client.js';
import { createHttp2Fetch } from '../../src/transports/streamable-http/index.js';
import { serveHttp } from '../../src/transports/streamable-http/node.js';
import { postRaw } from './http.js';
import type { MatrixBinding } from './types.js';

const MAX = 65536;

/**
 * Streamable HTTP over HTTP/2 with prior knowledge (h2c): serveHttp with `http2`, the anywire
 * client transport on `createHttp2Fetch` (one multiplexed session for every client of the binding).
 */
export const binding: MatrixBinding = {
  name: 'http2',
  eras: ['legacy', 'modern'],
  identities: true,
  async start(server, options = {}) {
    const handle = await serveHttp(server, {
      port: 0,
      http2: true,
      maxBodyBytes: MAX,
      authenticator: options.authenticator,
    });
    const h2 = createHttp2Fetch();
    return {
      connect: (authorization) =>
        new StreamableHttpClientTransport({
          url: handle.url,
          fetch: h2,
          ...(authorization ? { headers: { authorization } } : {}),
        }),
      stop: async () => {
        await h2.close();
        await handle.close();
      },
      maxMessageBytes: MAX,
      raw: (frame) => postRaw(handle.url, frame, h2 as typeof fetch),
    };
  },
};
