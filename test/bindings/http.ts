import { StreamableHttpClientTransport } from '../../src/transports/streamable-http/client.js';
import { serveHttp } from '../../src/transports/streamable-http/node.js';
import type { MatrixBinding } from './types.js';

const MAX = 65536;

/** One POST of a raw body to the endpoint; resolves with the JSON-RPC message the server answered. */
export async function postRaw(url: string, body: string, fetcher: typeof fetch = fetch): Promise<unknown> {
  const response = await fetcher(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body,
  });
  return JSON.parse(await response.text());
}

/** Streamable HTTP over HTTP/1.1: serveHttp on 127.0.0.1, the anywire client transport on fetch. */
export const binding: MatrixBinding = {
  name: 'http',
  eras: ['legacy', 'modern'],
  identities: true,
  async start(server, options = {}) {
    const handle = await serveHttp(server, {
      port: 0,
      maxBodyBytes: MAX,
      authenticator: options.authenticator,
    });
    return {
      connect: (authorization) =>
        new StreamableHttpClientTransport({
          url: handle.url,
          ...(authorization ? { headers: { authorization } } : {}),
        }),
      stop: () => handle.close(),
      maxMessageBytes: MAX,
      raw: (frame) => postRaw(handle.url, frame),
    };
  },
};
