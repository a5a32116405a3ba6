/**
 * The client factory of each built-in binding (read through the registry). Each imports its
 * binding on first use. TLS material for `tls:`, `wss:`, `grpcs:` and `mqtts:` comes from the URL's
 * query: `?ca=FILE&cert=FILE&key=FILE&servername=NAME` (PEM files).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ClientFactory } from './factory-types.js';

/**
 * TLS client material from a target URL's query: `?ca=FILE&cert=FILE&key=FILE&servername=NAME`
 * (files in PEM). The query is removed from `url`.
 * @throws Error (ENOENT, EACCES) when a named file cannot be read
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

const stdio: ClientFactory = async (_url, options) => {
  if (!options.command) throw new Error('a stdio target needs a command line');
  const { StdioClientTransport } = await import('../transports/stdio/client.js');
  return new StdioClientTransport(options.command);
};

const streamableHttp: ClientFactory = async (url, { headers }) => {
  const { StreamableHttpClientTransport } = await import('../transports/streamable-http/client.js');
  return new StreamableHttpClientTransport({ url: url.href, headers });
};

const websocket: ClientFactory = async (url, { headers }) => {
  const { WebSocketClientTransport } = await import('../transports/websocket/client.js');
  const tls = url.protocol === 'wss:' && url.search ? clientTls(url) : undefined;
  const wsOptions =
    tls && (tls.ca || tls.cert)
      ? { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName }
      : undefined;
  return new WebSocketClientTransport(url, {
    ...(headers ? { headers } : {}),
    ...(wsOptions ? { wsOptions } : {}),
  });
};

const stream: ClientFactory = async (url, { headers }) => {
  const { connectStream } = await import('../transports/stream/client.js');
  // A token travels as the first message's _meta.authorization (the stream bindings' ingress).
  const auth = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const common = auth !== undefined ? { authorization: auth } : {};
  if (url.protocol !== 'tls:') return connectStream(url, common);
  const t = clientTls(url);
  return connectStream(url, { ...common, ca: t.ca, cert: t.cert, key: t.key, servername: t.serverName });
};

const grpc: ClientFactory = async (url, { headers }) => {
  const { GrpcClientTransport } = await import('../transports/grpc/client.js');
  return new GrpcClientTransport({
    url,
    tls: url.protocol === 'grpcs:' ? clientTls(url) : undefined,
    metadata: headers,
  });
};

const mqtt: ClientFactory = async (url, { headers }) => {
  const { connectMqtt } = await import('../transports/mqtt/client.js');
  return connectMqtt(url, {
    tls: url.protocol === 'mqtts:' ? clientTls(url) : undefined,
    userProperties: headers,
  });
};

/** Client factories of the built-in bindings, by binding name. */
export const CLIENT_FACTORIES: Readonly<Record<string, ClientFactory>> = {
  stdio,
  'streamable-http': streamableHttp,
  websocket,
  stream,
  grpc,
  mqtt,
};
