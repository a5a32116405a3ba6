/**
 * Where the CLI's client connects: a stdio command line (after `--`) or a URL standing first.
 * @module
 */
import { Client } from '../client/client.js';
import type { Transport } from '../protocol/transport.js';
import { StdioClientTransport } from '../transports/stdio/client.js';
import { StreamableHttpClientTransport } from '../transports/streamable-http/client.js';
import { WebSocketClientTransport } from '../transports/websocket/client.js';
import { GrpcClientTransport } from '../transports/grpc/client.js';
import { connectMqtt } from '../transports/mqtt/client.js';
import { connectStream } from '../transports/stream/client.js';
import { readFileSync } from 'node:fs';

/** A parsed target. */
export type Target = { kind: 'stdio'; command: string[] } | { kind: 'url'; url: URL };

/** True when `s` looks like a target URL (`scheme://...` or `unix:/path`). */
export function looksLikeUrl(s: string | undefined): boolean {
  return s !== undefined && (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('unix:'));
}

/** Builds the transport for a target. @throws Error for schemes this build cannot reach yet */
export function transportFor(target: Target, options: { quiet?: boolean } = {}): Transport {
  if (target.kind === 'stdio') {
    const [command, ...args] = target.command;
    if (!command) throw new Error('give the stdio server command after --');
    return new StdioClientTransport({
      command,
      args,
      stderr: options.quiet ? 'ignore' : 'inherit',
      env: passthroughEnv(),
    });
  }
  const url = new URL(target.url.href); // per connection: the TLS query is consumed below
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return new StreamableHttpClientTransport({ url: url.href });
    case 'ws:':
    case 'wss:':
      return new WebSocketClientTransport(url);
    case 'tcp:':
    case 'unix:':
      return connectStream(url);
    case 'tls:': {
      const t = clientTls(url);
      return connectStream(url, { ca: t.ca, cert: t.cert, key: t.key, servername: t.serverName });
    }
    case 'mqtt:':
    case 'mqtts:':
      return connectMqtt(url, { tls: url.protocol === 'mqtts:' ? clientTls(url) : undefined });
    case 'grpc:':
    case 'grpcs:':
      return new GrpcClientTransport({ url, tls: url.protocol === 'grpcs:' ? clientTls(url) : undefined });
    default:
      throw new Error(
        `no binding for ${url.protocol} targets; give a URL (http, ws, ...) or a stdio command after --`,
      );
  }
}

/**
 * TLS client material from a target URL's query: `?ca=FILE&cert=FILE&key=FILE&servername=NAME`
 * (files in PEM). The query is removed from what is dialled.
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

/** Variables a CLI user expects a spawned server to see (npm and proxies need them). */
function passthroughEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      (/^npm_config_/i.test(k) || /^(HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS)$/i.test(k))
    )
      env[k] = v;
  }
  return env;
}

/** Connects a CLI client to the target. */
export async function connectTarget(
  target: Target,
  options: { quiet?: boolean; timeoutMs?: number } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'anywire-cli', version: '0.1.0' },
    { requestTimeoutMs: options.timeoutMs, probeTimeoutMs: Math.min(options.timeoutMs ?? 20_000, 20_000) },
  );
  await client.connect(transportFor(target, options));
  return client;
}
