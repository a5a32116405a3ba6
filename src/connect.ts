/**
 * `anywire/connect`: a client transport for any target named by URL, on any binding:
 * `http(s)://`, `ws(s)://`, `tcp://`, `tls://`, `unix:/path`, `grpc(s)://`, `mqtt(s)://broker/<server>`,
 * or a stdio command line. TLS material for `tls:`, `wss:`, `grpcs:` and `mqtts:` comes from the URL's
 * query: `?ca=FILE&cert=FILE&key=FILE&servername=NAME` (PEM files). Node only.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Client } from './client/client.js';
import type { ClientOptions } from './client/client.js';
import type { Transport } from './protocol/transport.js';
import type { Implementation } from './protocol/types.js';
import { GrpcClientTransport } from './transports/grpc/client.js';
import { connectMqtt } from './transports/mqtt/client.js';
import { StdioClientTransport } from './transports/stdio/client.js';
import type { StdioServerParameters } from './transports/stdio/client.js';
import { connectStream } from './transports/stream/client.js';
import { StreamableHttpClientTransport } from './transports/streamable-http/client.js';
import { WebSocketClientTransport } from './transports/websocket/client.js';

/** A target: a URL, or a stdio server's command line. */
export type TargetSpec = string | URL | StdioServerParameters;

/** Options of {@link transportForUrl}. */
export interface TargetOptions {
  /**
   * Request headers (e.g. `authorization`): HTTP headers, the WebSocket upgrade's headers, gRPC
   * metadata, or MQTT 5 user properties. Ignored for stdio (use the environment).
   */
  headers?: Record<string, string>;
}

/**
 * A new (unstarted) client transport for `target`.
 * @throws Error for a scheme no binding serves
 */
export function transportForUrl(target: TargetSpec, options: TargetOptions = {}): Transport {
  const headers = options.headers && Object.keys(options.headers).length ? options.headers : undefined;
  if (typeof target === 'object' && !(target instanceof URL)) return new StdioClientTransport(target);
  const url = new URL(String(target)); // a copy: the TLS query is consumed below
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return new StreamableHttpClientTransport({ url: url.href, headers });
    case 'ws:':
    case 'wss:': {
      const tls = url.protocol === 'wss:' && url.search ? clientTls(url) : undefined;
      const wsOptions =
        tls && (tls.ca || tls.cert)
          ? { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName }
          : undefined;
      return new WebSocketClientTransport(url, {
        ...(headers ? { headers } : {}),
        ...(wsOptions ? { wsOptions } : {}),
      });
    }
    case 'tcp:':
    case 'unix:':
      return connectStream(url);
    case 'tls:': {
      const t = clientTls(url);
      return connectStream(url, { ca: t.ca, cert: t.cert, key: t.key, servername: t.serverName });
    }
    case 'mqtt:':
    case 'mqtts:':
      return connectMqtt(url, {
        tls: url.protocol === 'mqtts:' ? clientTls(url) : undefined,
        userProperties: headers,
      });
    case 'grpc:':
    case 'grpcs:':
      return new GrpcClientTransport({
        url,
        tls: url.protocol === 'grpcs:' ? clientTls(url) : undefined,
        metadata: headers,
      });
    default:
      throw new Error(`anywire: no binding for ${url.protocol} targets`);
  }
}

/** Connects a new `Client` to `target` (era settled by probing). */
export async function connect(
  target: TargetSpec,
  info?: Implementation,
  options?: ClientOptions,
): Promise<Client> {
  const client = new Client(info ?? { name: 'anywire-client', version: '0.1.0' }, options);
  await client.connect(transportForUrl(target));
  return client;
}

/**
 * TLS client material from a target URL's query: `?ca=FILE&cert=FILE&key=FILE&servername=NAME`
 * (files in PEM). The query is removed from `url`.
 */
export function clientTls(url: URL): { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string } {
  const q = url.searchParams;
  const file = (k: string) => (q.get(k) ? readFileSync(q.get(k)!) : undefined);
  const out = {
    ca: file('ca'),
    cert: file('cert'),
    key: file('key'),
    serverName: q.get('servername') ?? undefined,
  };
  for (const k of ['ca', 'cert', 'key', 'servername']) q.delete(k);
  return out;
}
