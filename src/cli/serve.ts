/**
 * `anywire serve <module>`: serves a server module on every binding named, one server instance for
 * all of them. stdout carries only protocol messages (in `--stdio` mode); everything human,
 * including the table of endpoints, goes to stderr.
 * @module
 */
import { hostname } from 'node:os';
import { bindingDefinitions } from '../bindings/registry.js';
import type { Stores } from '../protocol/stores.js';
import { printEndpoints, startBinding } from './bindings.js';
import type { BindingFlags, StartedBinding } from './bindings.js';
import { loadServerModule } from './load-module.js';
import { nextSignal, runUntilStopped } from './serve-lifecycle.js';
import { logServerActivity } from './server-log.js';
import type { ServerLogOptions } from './server-log.js';

/** Options of {@link serve}. */
export interface ServeOptions extends BindingFlags, Omit<ServerLogOptions, 'stderr'> {
  /** Serve on stdin/stdout. Default: when no other binding is named. */
  stdio?: boolean;
  /** Streamable HTTP address: `host:port`, `:port` or `port`. */
  http?: string;
  /** HTTP path. Default `/mcp`. */
  path?: string;
  /** WebSocket address (`host:port`); served at `/mcp`. */
  ws?: string;
  /** gRPC address (`host:port`). */
  grpc?: string;
  /** MQTT broker URL with the server name as its path: `mqtt://127.0.0.1:1883/demo`. */
  mqtt?: string;
  /** TCP address (`host:port`), newline-delimited JSON-RPC. */
  tcp?: string;
  /** Unix socket path. */
  unix?: string;
  /** TLS address (`host:port`); needs `tlsCert` and `tlsKey`. */
  tls?: string;
  /** More bindings as URLs (`ws://127.0.0.1:3001/mcp`, `tcp://127.0.0.1:3002`, ...). */
  urls?: string[];
  /**
   * This node's name in a cluster (`--node-id`): in the HTTP health bodies, and the shared stores'
   * consumer name. Default `<hostname>-<pid>`.
   */
  nodeId?: string;
  /**
   * `--allow-insecure-webhooks`: passed to the module's factory as `allowInsecureWebhookTargets`
   * (webhook deliveries to http and loopback/private targets; development and tests only).
   */
  allowInsecureWebhooks?: boolean;
  /**
   * `redis://host:port/db`: every shared store on Redis (`redisStores` from `anywire/redis`, loaded
   * only then). Unreachable at start: exit status 69.
   */
  redis?: string;
  /**
   * `--max-clock-skew-ms`: with `redis`, how far the nodes' clocks may differ, in ms (the Redis task
   * store's `maxClockSkewMs`). Default `DEFAULT_MAX_CLOCK_SKEW_MS` of `anywire/redis` (2000).
   */
  maxClockSkewMs?: number;
  /**
   * `--delivery-lease-ms`: with `redis`, how long a webhook job taken by a node may stay
   * unacknowledged before another node re-claims it, in ms (the Redis delivery queue's
   * `deliveryLeaseMs`). Default 30 000.
   */
  deliveryLeaseMs?: number;
  /** Grace period for in-flight requests on SIGINT/SIGTERM, in ms. Default 5000. */
  shutdownGraceMs?: number;
  /**
   * Builds the authenticator (and its well-known handler) once the shared stores are connected, so
   * it can share them (`--auth-issuer` with `--redis`: the DPoP `jti` replay cache and the token
   * cache). Called with `undefined` without `--redis`. What it returns overrides `authenticator`
   * and `wellKnown`.
   */
  auth?: (stores: Stores | undefined) => Promise<Pick<BindingFlags, 'authenticator' | 'wellKnown'>>;
}

/** The binding URLs that `options` name, in the binding registry's order, then `urls`, then stdio. */
export function bindingUrls(options: ServeOptions): string[] {
  const urls: string[] = [];
  const context = { secure: !!options.tlsCert, path: options.path ?? '/mcp' };
  for (const binding of bindingDefinitions()) {
    for (const flag of binding.serveFlags ?? []) {
      const value = (options as Record<string, unknown>)[flag.name];
      if (typeof value === 'string' && value) urls.push(flag.toUrl(value, context));
    }
  }
  urls.push(...(options.urls ?? []));
  if (options.stdio ?? urls.length === 0) urls.push('stdio');
  return urls;
}

/**
 * `npm run` (without `--silent`) writes its `> pkg@1.0.0 start` banner to stdout before the server
 * starts: a stdio client reads it as a broken message. Says so on stderr, with the fix.
 */
function warnNpmBanner(): void {
  const env = process.env;
  // Only when the npm script itself serves (not, say, a test run that spawns servers).
  if (!/\bserve\b/.test(env.npm_lifecycle_script ?? '') || env.npm_config_loglevel === 'silent') return;
  process.stderr.write(
    `anywire: started by "npm run ${env.npm_lifecycle_event}" without --silent: npm's banner went to stdout, where a stdio client expects only JSON-RPC. Use "npm run --silent ${env.npm_lifecycle_event}" (or loglevel=silent in .npmrc).\n`,
  );
}

/** Serves `modulePath`; resolves when stdin ends (stdio) or on SIGINT/SIGTERM, after a graceful shutdown. */
export async function serve(modulePath: string, options: ServeOptions): Promise<void> {
  const urls = bindingUrls(options);
  if (urls.includes('stdio')) warnNpmBanner();
  const nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
  const allowInsecureWebhookTargets = options.allowInsecureWebhooks === true;
  if (allowInsecureWebhookTargets)
    process.stderr.write(
      'anywire: --allow-insecure-webhooks: webhooks may be delivered over http and to loopback and private addresses (development only)\n',
    );
  const server = await loadServerModule(modulePath, { allowInsecureWebhookTargets });
  logServerActivity(server, options);
  // Redis first: a node that cannot reach its stores never listens.
  const redis = options.redis ? await import('./serve-redis.js') : undefined;
  const stores = redis
    ? await redis.useRedisStores(server, options.redis!, nodeId, {
        ...(options.maxClockSkewMs !== undefined ? { maxClockSkewMs: options.maxClockSkewMs } : {}),
        ...(options.deliveryLeaseMs !== undefined ? { deliveryLeaseMs: options.deliveryLeaseMs } : {}),
      })
    : undefined;
  const started: StartedBinding[] = [];
  try {
    const auth = options.auth ? await options.auth(stores) : {};
    // Extensions start now (task lease sweeps, webhook deliveries), not on the first request: a
    // restarted node takes over the work of a dead one even when no client reaches it.
    await server.start();
    for (const url of urls) started.push(await startBinding(server, url, { ...options, ...auth, nodeId }));
  } catch (e) {
    await Promise.all(started.map((b) => b.close()));
    await server.close().catch(() => {});
    await stores?.close?.();
    throw e;
  }
  const signal = nextSignal();
  const shown = redis
    ? [
        ...started,
        { label: 'stores', endpoint: `redis ${redis.redactRedisUrl(options.redis!)} (node ${nodeId})` },
      ]
    : started;
  printEndpoints(`serving ${server.info.name} ${server.info.version}`, shown);
  try {
    await runUntilStopped(server, started, { ...options, signal });
  } finally {
    await stores?.close?.();
  }
}
