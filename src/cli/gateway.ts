/**
 * `anywire bridge --config mcp.json`: one gateway for many servers. Reads the `mcpServers` JSON that
 * desktop clients use (`command`, `args`, `env`, `cwd` for stdio servers; `url`, `headers` for
 * remote ones) and exposes each named server on every `--to` binding under its own path:
 * `http://host:port/<name>/mcp` (and its HTTP+SSE endpoints `/<name>/sse`, `/<name>/messages`),
 * `ws://host:port/<name>/mcp`, and `mqtt://broker/<name>`. HTTP and WebSocket bindings on the same
 * host and port share one listener.
 * @module
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpProxy } from '../bridge/proxy.js';
import { createNodeHandler } from '../transports/streamable-http/node.js';
import type { NodeMcpHandler } from '../transports/streamable-http/node.js';
import { printEndpoints, signalled, startBinding } from './bindings.js';
import type { StartedBinding } from './bindings.js';
import type { BridgeOptions } from './bridge.js';
import { probeUpstream } from './bridge.js';
import { transportFor } from './target.js';
import type { Target, TargetOptions } from './target.js';

/** One server of an `mcpServers` file. */
export interface ConfiguredServer {
  name: string;
  target: Target;
  options: TargetOptions;
}

const NAME = /^[A-Za-z0-9._-]+$/;

function strings(v: unknown, what: string): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new Error(`${what}.${k} must be a string`);
    out[k] = s;
  }
  return out;
}

/**
 * Reads an `mcpServers` file.
 * @throws Error naming the file and the entry that is wrong
 */
export function readMcpConfig(file: string, base: TargetOptions = {}): ConfiguredServer[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`anywire: cannot read ${file}: ${(e as Error).message}`);
  }
  const servers = (json as { mcpServers?: unknown } | null)?.mcpServers;
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers))
    throw new Error(`anywire: ${file} has no "mcpServers" object`);
  const out: ConfiguredServer[] = [];
  for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) {
    const where = `${file}: mcpServers.${name}`;
    if (!NAME.test(name))
      throw new Error(
        `anywire: ${where}: a name must be letters, digits, ".", "_" or "-" (it becomes a path)`,
      );
    const s = raw as {
      command?: unknown;
      args?: unknown;
      env?: unknown;
      url?: unknown;
      headers?: unknown;
      disabled?: unknown;
    };
    if (s?.disabled === true) continue;
    if (typeof s?.url === 'string') {
      out.push({
        name,
        target: { kind: 'url', url: new URL(s.url) },
        options: { ...base, headers: { ...base.headers, ...lower(strings(s.headers, `${where}.headers`)) } },
      });
    } else if (typeof s?.command === 'string') {
      const args = s.args ?? [];
      if (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))
        throw new Error(`anywire: ${where}.args must be an array of strings`);
      out.push({
        name,
        target: { kind: 'stdio', command: [s.command, ...(args as string[])] },
        options: { ...base, env: { ...base.env, ...strings(s.env, `${where}.env`) } },
      });
    } else throw new Error(`anywire: ${where} needs "command" (stdio) or "url" (remote)`);
  }
  if (out.length === 0) throw new Error(`anywire: ${file} names no servers`);
  return out;
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** One listener carrying every server by path. */
interface Listener {
  server: http.Server;
  handlers: Map<string, NodeMcpHandler>;
  closers: (() => Promise<void>)[];
}

async function listen(
  host: string,
  port: number,
  handlers: Map<string, NodeMcpHandler>,
): Promise<http.Server> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const name = /^\/([^/?]+)\//.exec(req.url ?? '')?.[1];
    const h = name !== undefined ? handlers.get(name) : undefined;
    if (h) h(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`Not Found: servers live at /<name>/mcp (${[...handlers.keys()].join(', ')})\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** Runs the gateway until SIGINT/SIGTERM. */
export async function bridgeConfig(
  file: string,
  options: Omit<BridgeOptions, 'to'> & { to: string[] },
): Promise<void> {
  if (options.to.length === 0) throw new Error('name at least one --to binding');
  const servers = readMcpConfig(file, options);
  if (!options.lazy) {
    const failures = (
      await Promise.all(
        servers.map((s) =>
          probeUpstream(s.target, { ...s.options, probeTimeout: options.probeTimeout }).then(
            () => undefined,
            (e: Error) => `${s.name}: ${e.message.replace(/^anywire: /, '')}`,
          ),
        ),
      )
    ).filter((f) => f !== undefined);
    if (failures.length)
      throw new Error(
        `anywire: ${failures.length} of ${servers.length} servers failed:\n  ${failures.join('\n  ')}`,
      );
  }
  const proxies = new Map(
    servers.map((s) => [
      s.name,
      new McpProxy(() => transportFor(s.target, s.options), { shared: options.shared }),
    ]),
  );
  const listeners = new Map<string, Listener>();
  const started: StartedBinding[] = [];
  const closeAll = async () => {
    await Promise.all(started.map((b) => b.close()));
    for (const l of listeners.values()) {
      await Promise.all(l.closers.map((c) => c()));
      await new Promise<void>((r) => {
        l.server.close(() => r());
        l.server.closeAllConnections();
      });
    }
    await Promise.all([...proxies.values()].map((p) => p.close()));
  };
  try {
    for (const spec of options.to) {
      const url = new URL(spec);
      if (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') {
        for (const [name, proxy] of proxies)
          started.push(
            await startBinding(proxy, `${url.protocol}//${url.host}/${name}${url.search}`, options),
          );
        continue;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'ws:')
        throw new Error(
          `anywire: --config serves on http://, ws:// and mqtt:// bindings, not ${url.protocol}`,
        );
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const key = `${host}:${url.port || 80}`;
      let l = listeners.get(key);
      if (!l) {
        const handlers = new Map<string, NodeMcpHandler>();
        for (const [name, proxy] of proxies)
          handlers.set(
            name,
            createNodeHandler(proxy, {
              path: `/${name}/mcp`,
              bindHost: host,
              httpSse: { ssePath: `/${name}/sse`, messagePath: `/${name}/messages` },
            }),
          );
        l = { server: await listen(host, Number(url.port || 80), handlers), handlers, closers: [] };
        for (const h of handlers.values()) l.closers.push(() => h.http.close());
        listeners.set(key, l);
      }
      const port = (l.server.address() as AddressInfo).port;
      const h = host.includes(':') ? `[${host}]` : host;
      if (url.protocol === 'ws:') {
        const { attachWebSocket } = await import('../transports/websocket/server.js');
        for (const [name, proxy] of proxies) {
          const a = attachWebSocket(proxy, l.server, { path: `/${name}/mcp`, bindHost: host });
          l.closers.unshift(() => a.close());
        }
      }
      for (const name of proxies.keys())
        started.push({
          label: `${name} ${url.protocol === 'ws:' ? 'websocket' : 'streamable-http + http+sse'}`,
          endpoint: `${url.protocol}//${h}:${port}/${name}/mcp`,
          ended: new Promise<void>(() => {}),
          close: async () => {},
        });
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  const stop = signalled();
  printEndpoints(`gateway for ${servers.length} servers from ${file}`, started);
  await stop;
  await closeAll();
}
