/**
 * What the Redis task store and task leases share: the client they take (a connected node-redis
 * client, or a URL they connect themselves), Lua scripts run by SHA with a fallback to EVAL, and
 * the validation of their options. Internal to `anywire/redis`.
 * @module
 */
import { createHash } from 'node:crypto';
import { createClient } from 'redis';

/**
 * The part of a node-redis (v5+) client these stores use: raw commands. A `createClient()` client
 * (connected) fits, so does a client of the same server shared with other stores.
 */
export interface RedisCommandClient {
  sendCommand(args: readonly string[]): Promise<unknown>;
}

type OwnedClient = ReturnType<typeof makeClient>;
const makeClient = (url: string) => createClient({ url, disableOfflineQueue: true });

/** A client given by the caller, or one made (and owned) from a URL. */
export class CommandLink {
  readonly #given: RedisCommandClient | undefined;
  readonly #url: string | undefined;
  #own: OwnedClient | undefined;
  #connecting: Promise<RedisCommandClient> | undefined;
  #ready: RedisCommandClient | undefined;
  #closed = false;
  readonly #connectTimeoutMs: number;

  constructor(clientOrUrl: RedisCommandClient | string, what: string, connectTimeoutMs = 5000) {
    this.#connectTimeoutMs = connectTimeoutMs;
    if (typeof clientOrUrl === 'string') this.#url = clientOrUrl;
    else if (clientOrUrl && typeof clientOrUrl.sendCommand === 'function') this.#given = clientOrUrl;
    else throw new TypeError(`anywire: ${what} needs a node-redis client or a redis:// URL`);
  }

  /**
   * The client, connecting the owned one on first use (waiting at most `connectTimeoutMs` for
   * it). The owned client does not queue commands while it is disconnected: they fail at once.
   */
  client(): Promise<RedisCommandClient> {
    if (this.#given) return Promise.resolve(this.#given);
    if (this.#closed) return Promise.reject(new Error('anywire: the Redis store is closed'));
    if (this.#ready) return Promise.resolve(this.#ready);
    this.#connecting ??= (async () => {
      const c = makeClient(this.#url!);
      // Errors surface on the commands that fail; the client reconnects by itself.
      c.on('error', () => {});
      this.#own = c;
      c.connect().catch(() => {});
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          c.off('ready', ok);
          reject(
            new Error(
              `anywire: Redis at ${redactUrl(this.#url!)} is unreachable (no connection within ${this.#connectTimeoutMs} ms)`,
            ),
          );
        }, this.#connectTimeoutMs);
        const ok = () => {
          clearTimeout(timer);
          resolve();
        };
        c.once('ready', ok);
      });
      this.#ready = c as unknown as RedisCommandClient;
      return this.#ready;
    })();
    // A failed first connection is retried by the next call (the client keeps trying meanwhile).
    return this.#connecting.catch((error: unknown) => {
      this.#connecting = undefined;
      if (this.#own && !this.#ready) {
        this.#own.destroy();
        this.#own = undefined;
      }
      throw error;
    });
  }

  /** Closes the owned client (a given client is left open: its owner closes it). */
  async close(): Promise<void> {
    this.#closed = true;
    const own = this.#own;
    this.#own = undefined;
    this.#ready = undefined;
    if (own?.isReady) await own.close();
    else own?.destroy();
  }
}

/** A URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the given URL';
  }
}

/** A Lua script, run by SHA-1 (`EVALSHA`), loaded with `EVAL` when Redis does not know it yet. */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisCommandClient, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await client.sendCommand(['EVALSHA', this.#sha, ...tail]);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).startsWith('NOSCRIPT')) throw error;
      return client.sendCommand(['EVAL', this.#source, ...tail]);
    }
  }
}

/**
 * Lua: `reset(key, type)` deletes `key` when it holds another type than `type` (garbage under our
 * keys is treated as absent); `keep(key, ms, before)` makes sure `key` lives at least `ms`
 * more (`before` is its PTTL before the script wrote to it: a key that was persistent stays so, a
 * new one gets the TTL; `ms` = -1 makes it persistent).
 */
export const LUA_HELPERS = `
local function reset(key, kind)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= kind then redis.call('DEL', key) end
end
local function keep(key, ms, before)
  if ms < 0 then redis.call('PERSIST', key) return end
  if before == -1 then return end
  local left = redis.call('PTTL', key)
  if left < ms then redis.call('PEXPIRE', key, ms) end
end
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** The key prefix option, checked: no `{` or `}` (they would change the keys' hash slots). */
export function checkPrefix(prefix: string | undefined, what: string): string {
  const p = prefix ?? 'anywire:';
  if (typeof p !== 'string' || /[{}]/.test(p))
    throw new TypeError(`anywire: ${what} keyPrefix must be a string without { or }`);
  return p;
}

/** An integer option >= min, or its default. @throws RangeError naming the option */
export function intOption(what: string, name: string, value: number | undefined, min: number, def: number) {
  if (value === undefined) return def;
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`anywire: ${what} ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** A reply as an array (a nil or other reply as an empty one). */
export function asArray(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : [];
}

/** A reply as a string, or `undefined` (nil, or not a bulk string). */
export function asString(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return undefined;
}
