/**
 * The server factory of each built-in binding (read through the registry). Each imports its
 * binding on first use.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Servable } from '../server/servable.js';
import type { BindingFlags, ServerFactory } from './factory-types.js';

const never = new Promise<void>(() => {});
/** HTTP/1.1 listeners started here, by `host:port`, for WebSocket upgrades on the same port. */
const httpListeners = new Map<string, HttpServer>();

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');
const pathOr = (url: URL, fallback: string) =>
  url.pathname === '/' || url.pathname === '' ? fallback : url.pathname;

/** Server TLS material from the flags (PEM file contents), or undefined when `secure` is false. */
export function serverTls(
  flags: BindingFlags,
  secure: boolean,
): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean } | undefined {
  if (!secure) return undefined;
  return {
    cert: readFileSync(need(flags.tlsCert, '--tls-cert')),
    key: readFileSync(need(flags.tlsKey, '--tls-key')),
    ca: flags.tlsCa ? readFileSync(flags.tlsCa) : undefined,
    requestCert: flags.mtls,
  };
}

function need(v: string | undefined, flag: string): string {
  if (!v) throw new Error(`TLS needs ${flag}`);
  return v;
}

const stdio: ServerFactory = async (server, _url, flags) => {
  const { StdioServerTransport } = await import('../transports/stdio/server.js');
  const transport = new StdioServerTransport({ maxMessageBytes: flags.maxMessageBytes });
  const conn = await server.connect(transport);
  conn.onerror = (e) => process.stderr.write(`anywire: ${e.message}\n`);
  return { label: 'stdio', endpoint: 'stdin/stdout', ended: conn.closed, close: () => conn.close() };
};

const streamableHttp: ServerFactory = async (server, url, flags) => {
  const { serveHttp } = await import('../transports/streamable-http/node.js');
  const tls = serverTls(flags, url.protocol === 'https:' || !!(flags.tlsCert && flags.tlsKey));
  const http = await serveHttp(server, {
    host: hostOf(url),
    port: Number(url.port || (tls ? 443 : 80)),
    path: pathOr(url, '/mcp'),
    http2: flags.http2,
    tls,
    corsOrigins: flags.corsOrigins,
    authenticator: flags.authenticator,
    wellKnown: flags.wellKnown,
    nodeId: flags.nodeId,
  });
  const kind = tls ? (flags.http2 === false ? 'https' : 'h2 + https') : flags.http2 ? 'h2c' : 'http';
  // A WebSocket binding named on the same host:port attaches to this listener by upgrade.
  if (!tls && !flags.http2)
    httpListeners.set(`${url.hostname}:${http.address.port}`, http.listener as HttpServer);
  return {
    label: `streamable-http (${kind}) + http+sse at /sse, health at /healthz /readyz`,
    endpoint: http.url,
    ended: never,
    close: () => http.close(),
  };
};

const websocket: ServerFactory = async (server, url, flags) => {
  const { attachWebSocket, serveWebSocket } = await import('../transports/websocket/server.js');
  const shared = httpListeners.get(`${url.hostname}:${url.port}`);
  if (shared) {
    const path = pathOr(url, '/ws');
    const a = attachWebSocket(server, shared, {
      path,
      maxMessageBytes: flags.maxMessageBytes,
      bindHost: hostOf(url),
      authenticator: flags.authenticator,
    });
    return {
      label: 'websocket (by upgrade on the HTTP port)',
      endpoint: `ws://${url.host}${path}`,
      ended: never,
      close: () => a.close(),
    };
  }
  const tls = serverTls(flags, url.protocol === 'wss:');
  const ws = await serveWebSocket(server, {
    host: hostOf(url),
    port: Number(url.port || (tls ? 443 : 80)),
    path: url.pathname === '/' ? undefined : url.pathname,
    maxMessageBytes: flags.maxMessageBytes,
    tls,
    authenticator: flags.authenticator,
  });
  const endpoint =
    url.pathname === '/' || ws.url.endsWith(url.pathname)
      ? ws.url
      : `${ws.url.replace(/\/$/, '')}${url.pathname}`;
  return { label: 'websocket (subprotocol mcp)', endpoint, ended: never, close: () => ws.close() };
};

const stream: ServerFactory = async (server, url, flags) => {
  const { serveTcp, serveTls, serveUnix } = await import('../transports/stream/server.js');
  const common = { maxMessageBytes: flags.maxMessageBytes, authenticator: flags.authenticator };
  const host = hostOf(url);
  const h =
    url.protocol === 'unix:'
      ? await serveUnix(server, { ...common, path: url.pathname })
      : url.protocol === 'tcp:'
        ? await serveTcp(server, { ...common, host, port: Number(url.port) })
        : await serveTls(server, { ...common, host, port: Number(url.port), ...serverTls(flags, true)! });
  const label = {
    'tcp:': 'tcp (ndjson)',
    'tls:': `tls (ndjson${flags.mtls ? ', mTLS' : ''})`,
    'unix:': 'unix socket (ndjson)',
  }[url.protocol]!;
  return { label, endpoint: h.url, ended: never, close: () => h.close() };
};

const grpc: ServerFactory = async (server, url, flags) => {
  const { serveGrpc } = await import('../transports/grpc/server.js');
  const tls = serverTls(flags, url.protocol === 'grpcs:');
  const g = await serveGrpc(server, {
    host: hostOf(url),
    port: Number(url.port || 50051),
    maxMessageBytes: flags.maxMessageBytes,
    tls,
    authenticator: flags.authenticator,
  });
  return {
    label: `grpc (anywire.mcp.v1.Mcp${tls?.requestCert ? ', mTLS' : ''})`,
    endpoint: g.url,
    ended: never,
    close: () => g.close(),
  };
};

const mqtt: ServerFactory = async (server: Servable, url, flags) => {
  const { serveMqtt } = await import('../transports/mqtt/server.js');
  const { parseMqttUrl } = await import('../transports/mqtt/topics.js');
  const target = parseMqttUrl(url);
  const tls =
    url.protocol === 'mqtts:'
      ? {
          ca: flags.tlsCa ? readFileSync(flags.tlsCa) : undefined,
          cert: flags.tlsCert ? readFileSync(flags.tlsCert) : undefined,
          key: flags.tlsKey ? readFileSync(flags.tlsKey) : undefined,
        }
      : undefined;
  const m = await serveMqtt(server, {
    ...target,
    password: target.password ?? process.env.MQTT_PASSWORD,
    tls,
    maxMessageBytes: flags.maxMessageBytes,
    authenticator: flags.authenticator,
  });
  const endpoint = `${url.protocol}//${url.host}/${target.serverName}`;
  return { label: 'mqtt 5 (QoS 1)', endpoint, ended: never, close: () => m.close() };
};

/** Server factories of the built-in bindings, by binding name. */
export const SERVER_FACTORIES: Readonly<Record<string, ServerFactory>> = {
  stdio,
  'streamable-http': streamableHttp,
  websocket,
  stream,
  grpc,
  mqtt,
};
