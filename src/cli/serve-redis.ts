/**
 * `anywire serve ... --redis redis://host:port/db`: every shared store of the server on Redis
 * (`redisStores` from `anywire/redis`, imported only when the flag is given: a server without it
 * never loads the Redis client), connected before any binding listens. A Redis that cannot be
 * reached at start is a clear one-line error and exit status {@link EXIT_REDIS_UNAVAILABLE}; the
 * stores are closed after the bindings on SIGINT/SIGTERM.
 * @module
 */
import type { Stores } from '../protocol/stores.js';
import type { McpServer } from '../server/mcp-server.js';
import { describedError } from './failures.js';

/** Exit status of `anywire serve --redis` when Redis is not reachable at start: 69 (EX_UNAVAILABLE, sysexits.h). */
export const EXIT_REDIS_UNAVAILABLE = 69;

/** A Redis URL with its password hidden, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

/**
 * Checks a `--redis` value: `redis://` or `rediss://` with a host.
 * @throws Error naming the expected form
 */
export function checkRedisUrl(url: string): void {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname)
    throw new Error(`anywire: --redis expects redis://host:port/db or rediss://... (got "${url}")`);
}

/** Options of {@link useRedisStores} beyond the URL and the node id. */
export interface UseRedisStoresOptions {
  /** The task store's clock skew tolerance, in ms (`--max-clock-skew-ms`). */
  maxClockSkewMs?: number;
  /** The webhook delivery queue's `deliveryLeaseMs`, in ms (`--delivery-lease-ms`). */
  deliveryLeaseMs?: number;
  /** Where outages are reported. Default process.stderr. */
  stderr?: NodeJS.WritableStream;
}

/**
 * Connects the Redis stores and gives them to `server` (`server.useStores`).
 * @returns the stores, to close after the bindings
 * @throws Error with `exitCode` {@link EXIT_REDIS_UNAVAILABLE} when Redis is not reachable; Error
 * when the module's server already has stores of its own
 */
export async function useRedisStores(
  server: McpServer,
  url: string,
  nodeId: string,
  more: UseRedisStoresOptions = {},
): Promise<Stores> {
  const stderr = more.stderr ?? process.stderr;
  checkRedisUrl(url);
  if (typeof server.useStores !== 'function')
    throw new Error('anywire: --redis needs the module to export an McpServer (it has no useStores)');
  if (Object.keys(server.stores ?? {}).length > 0)
    throw new Error('anywire: --redis: the server module already set its own stores; drop one of the two');
  const { redisStores } = await import('../redis/index.js');
  // Outages after start are reported as they happen; a failure to connect at start is one message.
  let connected = false;
  const options = {
    url,
    // The node id names this process on the task leases it holds and in the webhook delivery
    // queue's consumer group.
    nodeId,
    ...(more.maxClockSkewMs !== undefined ? { maxClockSkewMs: more.maxClockSkewMs } : {}),
    ...(more.deliveryLeaseMs !== undefined ? { events: { deliveryLeaseMs: more.deliveryLeaseMs } } : {}),
    onerror: (e: Error) => {
      if (connected) stderr.write(`anywire: ${e.message}\n`);
    },
  };
  let stores: Stores;
  try {
    stores = await redisStores(options);
  } catch (error) {
    const e = describedError(
      `anywire: cannot reach Redis at ${redactRedisUrl(url)}: ${(error as Error).message.replace(/^anywire\/redis: /, '')}`,
      error,
    );
    Object.assign(e, { exitCode: EXIT_REDIS_UNAVAILABLE });
    throw e;
  }
  connected = true;
  server.useStores(stores);
  return stores;
}
