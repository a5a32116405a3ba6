/**
 * Starts a server (or a bridge's proxy) on a binding named by URL: `stdio`, `http(s)://host:port/path`,
 * and the other bindings as they are registered. `serve` and `bridge` share it.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Servable } from '../server/servable.js';
import { StdioServerTransport } from '../transports/stdio/server.js';
import { serveHttp } from '../transports/streamable-http/node.js';

/** TLS and transport options that come from flags rather than the URL. */
export interface BindingFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** Require and verify client certificates (mTLS). */
  mtls?: boolean;
  http2?: boolean;
  maxMessageBytes?: number;
}

/** A started binding. */
export interface StartedBinding {
  /** Table label, e.g. `streamable-http (h2c)`. */
  label: string;
  /** Where clients connect. */
  endpoint: string;
  /** Resolves when the binding ends by itself (stdin EOF); never for listeners. */
  ended: Promise<void>;
  close(): Promise<void>;
}

/** Extra binding starters, keyed by URL scheme (`ws:`, `tcp:`, ...). */
export type BindingStarter = (server: Servable, url: URL, flags: BindingFlags) => Promise<StartedBinding>;
const starters = new Map<string, BindingStarter>();

/** Registers a starter for a URL scheme. */
export function registerBinding(scheme: string, starter: BindingStarter): void {
  starters.set(scheme, starter);
}

const never = new Promise<void>(() => {});
/** HTTP/1.1 listeners started here, by `host:port`, for WebSocket upgrades on the same port. */
const httpListeners = new Map<string, HttpServer>();

/** Parses `host:port`, `[v6]:port`, `:port` or `port`. */
export function parseAddress(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`cannot read address "${spec}" (expected host:port)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/**
 * Starts `server` on the binding `spec` names (`stdio` or a URL).
 * @throws Error for an unknown scheme
 */
export async function startBinding(
  server: Servable,
  spec: string,
  flags: BindingFlags = {},
): Promise<StartedBinding> {
  if (spec === 'stdio' || spec === 'stdio:') {
    const transport = new StdioServerTransport({ maxMessageBytes: flags.maxMessageBytes });
    const conn = await server.connect(transport);
    conn.onerror = (e) => process.stderr.write(`anywire: ${e.message}\n`);
    return { label: 'stdio', endpoint: 'stdin/stdout', ended: conn.closed, close: () => conn.close() };
  }
  const url = new URL(spec);
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = serverTls(flags, url.protocol === 'https:' || !!(flags.tlsCert && flags.tlsKey));
    const http = await serveHttp(server, {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || (tls ? 443 : 80)),
      path: url.pathname === '/' ? '/mcp' : url.pathname,
      http2: flags.http2,
      tls,
    });
    const kind = tls ? (flags.http2 === false ? 'https' : 'h2 + https') : flags.http2 ? 'h2c' : 'http';
    // A WebSocket binding named on the same host:port attaches to this listener by upgrade.
    if (!tls && !flags.http2)
      httpListeners.set(`${url.hostname}:${http.address.port}`, http.listener as HttpServer);
    return {
      label: `streamable-http (${kind}) + http+sse at /sse`,
      endpoint: http.url,
      ended: never,
      close: () => http.close(),
    };
  }
  if (url.protocol === 'ws:' || url.protocol === 'wss:') {
    const { attachWebSocket, serveWebSocket } = await import('../transports/websocket/server.js');
    const shared = httpListeners.get(`${url.hostname}:${url.port}`);
    if (shared) {
      const path = url.pathname === '/' ? '/ws' : url.pathname;
      const a = attachWebSocket(server, shared, {
        path,
        maxMessageBytes: flags.maxMessageBytes,
        bindHost: url.hostname.replace(/^\[|\]$/g, ''),
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
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || (tls ? 443 : 80)),
      path: url.pathname === '/' ? undefined : url.pathname,
      maxMessageBytes: flags.maxMessageBytes,
      tls,
    });
    const endpoint =
      url.pathname === '/' || ws.url.endsWith(url.pathname)
        ? ws.url
        : `${ws.url.replace(/\/$/, '')}${url.pathname}`;
    return { label: 'websocket (subprotocol mcp)', endpoint, ended: never, close: () => ws.close() };
  }
  if (url.protocol === 'grpc:' || url.protocol === 'grpcs:') {
    const { serveGrpc } = await import('../transports/grpc/server.js');
    const tls = serverTls(flags, url.protocol === 'grpcs:');
    const g = await serveGrpc(server, {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 50051),
      maxMessageBytes: flags.maxMessageBytes,
      tls,
    });
    return {
      label: `grpc (anywire.mcp.v1.Mcp${tls?.requestCert ? ', mTLS' : ''})`,
      endpoint: g.url,
      ended: never,
      close: () => g.close(),
    };
  }
  if (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') {
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
    });
    const endpoint = `${url.protocol}//${url.host}/${target.serverName}`;
    return { label: 'mqtt 5 (QoS 1)', endpoint, ended: never, close: () => m.close() };
  }
  if (url.protocol === 'tcp:' || url.protocol === 'tls:' || url.protocol === 'unix:') {
    const { serveTcp, serveTls, serveUnix } = await import('../transports/stream/server.js');
    const common = { maxMessageBytes: flags.maxMessageBytes };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const h =
      url.protocol === 'unix:'
        ? await serveUnix(server, { ...common, path: url.pathname })
        : url.protocol === 'tcp:'
          ? await serveTcp(server, { ...common, host, port: Number(url.port) })
          : await serveTls(server, {
              ...common,
              host,
              port: Number(url.port),
              ...serverTls(flags, true)!,
            });
    const label = {
      'tcp:': 'tcp (ndjson)',
      'tls:': `tls (ndjson${flags.mtls ? ', mTLS' : ''})`,
      'unix:': 'unix socket (ndjson)',
    }[url.protocol]!;
    return { label, endpoint: h.url, ended: never, close: () => h.close() };
  }
  const starter = starters.get(url.protocol);
  if (!starter) throw new Error(`no binding for ${url.protocol} URLs`);
  return starter(server, url, flags);
}

/** Server TLS material from the flags (PEM file contents), or undefined when `secure` is false. */
function serverTls(
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

/** Prints the endpoint table to stderr. */
export function printEndpoints(name: string, started: StartedBinding[]): void {
  const width = Math.max(...started.map((b) => b.label.length));
  process.stderr.write(
    `anywire: ${name}\n${started.map((b) => `  ${b.label.padEnd(width)}  ${b.endpoint}`).join('\n')}\n`,
  );
}

/** Resolves on SIGINT or SIGTERM. */
export function signalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
