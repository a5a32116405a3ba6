/**
 * `anywire serve <module>`: serves a server module on stdio and/or Streamable HTTP at once, one
 * server instance on every binding named. stdout carries only protocol messages (in `--stdio` mode);
 * everything human, including the table of endpoints, goes to stderr.
 * @module
 */
import { serveHttp } from '../transports/streamable-http/node.js';
import type { HttpServerHandle } from '../transports/streamable-http/node.js';
import { StdioServerTransport } from '../transports/stdio/server.js';
import { loadServerModule } from './load-module.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Serve on stdin/stdout. Default: when no other binding is named. */
  stdio?: boolean;
  /** Longest accepted stdio line in bytes. */
  maxMessageBytes?: number;
  /** Streamable HTTP address: `host:port`, `:port` or `port`. */
  http?: string;
  /** HTTP path. Default `/mcp`. */
  path?: string;
  /** HTTP/2: h2c without TLS; with TLS, h2 by ALPN beside HTTP/1.1. */
  http2?: boolean;
  /** TLS certificate and key files (PEM). */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** Grace period for in-flight requests on SIGINT/SIGTERM, in ms. Default 5000. */
  shutdownGraceMs?: number;
}

/** Parses `host:port`, `[v6]:port`, `:port` or `port`. */
export function parseAddress(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`anywire: cannot read address "${spec}" (expected host:port)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** Serves `modulePath` on the bindings named; resolves when stdin ends (stdio) or on SIGINT/SIGTERM. */
export async function serve(modulePath: string, options: ServeOptions): Promise<void> {
  const server = await loadServerModule(modulePath);
  const useStdio = options.stdio ?? !options.http;
  const closers: (() => Promise<void>)[] = [];
  const endpoints: [string, string][] = [];
  let http: HttpServerHandle | undefined;
  if (options.http) {
    const { host, port } = parseAddress(options.http);
    const tls =
      options.tlsCert && options.tlsKey
        ? { cert: options.tlsCert, key: options.tlsKey, ca: options.tlsCa }
        : undefined;
    http = await serveHttp(server, { host, port, path: options.path ?? '/mcp', http2: options.http2, tls });
    closers.push(() => http!.close());
    const kind = tls ? (options.http2 === false ? 'https' : 'h2 + https') : options.http2 ? 'h2c' : 'http';
    endpoints.push([`streamable-http (${kind})`, http.url]);
    endpoints.push(['http+sse (2024-11-05)', http.url.replace(/\/[^/]*$/, '/sse')]);
  }
  let stdinClosed: Promise<void> | undefined;
  if (useStdio) {
    const transport = new StdioServerTransport({ maxMessageBytes: options.maxMessageBytes });
    const conn = await server.connect(transport);
    conn.onerror = (e) => process.stderr.write(`anywire: ${e.message}\n`);
    stdinClosed = conn.closed;
    endpoints.push(['stdio', 'stdin/stdout']);
  }
  const width = Math.max(...endpoints.map((e) => e[0].length));
  process.stderr.write(
    `anywire: serving ${server.info.name} ${server.info.version}\n${endpoints.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`,
  );
  const signalled = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.race(stdinClosed ? [stdinClosed, signalled] : [signalled]);
  const grace = new Promise<void>((r) => setTimeout(r, options.shutdownGraceMs ?? 5000).unref());
  await Promise.race([Promise.all(closers.map((c) => c())).then(() => server.close()), grace]);
}
