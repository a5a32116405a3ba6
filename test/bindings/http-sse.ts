import { StreamableHttpClientTransport } from '../../src/transports/streamable-http/client.js';
import { serveHttp } from '../../src/transports/streamable-http/node.js';
import type { MatrixBinding } from './types.js';

const MAX = 65536;

/**
 * HTTP+SSE, the 2024-11-05 transport (legacy era only): serveHttp's `/sse` and `/messages`
 * endpoints; the anywire client, given the `/sse` URL, falls back to it when its `initialize` POST
 * there is refused.
 */
export const binding: MatrixBinding = {
  name: 'http-sse',
  eras: ['legacy'],
  identities: true,
  async start(server, options = {}) {
    const handle = await serveHttp(server, {
      port: 0,
      maxBodyBytes: MAX,
      authenticator: options.authenticator,
    });
    const url = new URL('/sse', handle.url).href;
    return {
      connect: (authorization) =>
        new StreamableHttpClientTransport({ url, ...(authorization ? { headers: { authorization } } : {}) }),
      stop: () => handle.close(),
    };
  },
};
