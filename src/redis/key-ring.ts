/**
 * `RedisKeyRing`: the `requestState` key ring (2026-07-28 basic/patterns/mrtr "Security") shared by
 * every process through one Redis hash, so a multi round-trip request sealed on one process opens
 * on any other, and keys rotate without breaking the rounds in flight.
 * @module
 */
import type { KeyRing, StateKey } from '../protocol/stores.js';
import { checkIntegerOption } from '../protocol/option-checks.js';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import { closeClient, redisFailure, storeConnection } from './connection.js';
import { RedisKeys } from './keys.js';
import { RedisScript } from './script.js';

/** Default of {@link RedisKeyRingOptions.refreshMs}: 5 s. */
export const DEFAULT_KEY_RING_REFRESH_MS = 5000;
/** Default of {@link RedisKeyRingOptions.retireAfterMs}: 10 min (the default `requestState.ttlMs`). */
export const DEFAULT_KEY_RING_RETIRE_AFTER_MS = 600_000;
/** Default of {@link RedisKeyRingOptions.keyRingTtlMs}: 30 days. */
export const DEFAULT_KEY_RING_TTL_MS = 30 * 24 * 3_600_000;

/** Options of {@link RedisKeyRing}. */
export interface RedisKeyRingOptions {
  /** Prefix of the key. Default `anywire:` (the hash is `anywire:keyring`). */
  keyPrefix?: string;
  /**
   * Keys from configuration (the first signs, all verify): Redis is then not used at all and
   * `rotate()` throws. Default: the keys of the shared Redis hash.
   */
  keys?: StateKey[];
  /**
   * How long the keys read from Redis are used before they are read again, in ms (the last set read
   * is still used while Redis is unreachable). A rotated key starts signing `2 × refreshMs` after
   * the rotation, once every process has read it. Default 5 000.
   */
  refreshMs?: number;
  /**
   * How long a replaced key still opens states, in ms: at least the server's `requestState.ttlMs`.
   * Default 600 000 (the default `requestState.ttlMs`).
   */
  retireAfterMs?: number;
  /** Time to live of the hash, in ms, renewed on every read. Default 30 days. */
  keyRingTtlMs?: number;
  /** Receives the failed reads after which the last keys read stay in use. Default: dropped. */
  onerror?: (error: Error) => void;
}

// KEYS[1] the ring (hash: key id -> {"s": secret base64url, "c": created ms, "r": retired ms or 0}).
// ARGV: id and secret of a key to add if there is none (or on rotation), ttlMs, retireAfterMs,
// refreshMs, 'rotate' or 'read'. Times are Redis's (TIME): every process agrees on them. Drops
// fields that are not ours (garbage) and keys retired long enough ago. Returns {now ms, HGETALL...}.
const RING = new RedisScript(`
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'hash' and t ~= 'none' then redis.call('DEL', KEYS[1]) end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local keep = tonumber(ARGV[4]) + 2 * tonumber(ARGV[5])
local all = redis.call('HGETALL', KEYS[1])
local active = {}
for i = 1, #all, 2 do
  local ok, v = pcall(cjson.decode, all[i + 1])
  if not ok or type(v) ~= 'table' or type(v.s) ~= 'string' or type(v.c) ~= 'number' or type(v.r) ~= 'number' then
    redis.call('HDEL', KEYS[1], all[i])
  elseif v.r > 0 and v.r + keep < now then
    redis.call('HDEL', KEYS[1], all[i])
  elseif v.r == 0 then
    active[#active + 1] = {all[i], v}
  end
end
if #active == 0 or ARGV[6] == 'rotate' then
  for _, a in ipairs(active) do
    a[2].r = now
    redis.call('HSET', KEYS[1], a[1], cjson.encode(a[2]))
  end
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({s = ARGV[2], c = now, r = 0}))
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local out = {tostring(now)}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields do out[#out + 1] = fields[i] end
return out
`);

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

interface RingKey extends StateKey {
  createdMs: number;
  /** Replaced by a newer key (it verifies, and signs only until the newer one may). */
  retired: boolean;
}

interface RingCache {
  /** Signing key first. */
  keys: StateKey[];
  /** Newest first. */
  all: RingKey[];
  /** When it was read (this process's clock, ms). */
  readAt: number;
  /** Redis's clock minus this process's, in ms, at the read. */
  offsetMs: number;
}

/**
 * A {@link KeyRing} shared through Redis.
 *
 * - **Storage**: one hash, `<prefix>keyring` (TTL `keyRingTtlMs`, renewed on each read), field =
 *   key id, value = `{"s": <32 random bytes, base64url>, "c": <created ms>, "r": <retired ms or 0>}`.
 *   The first process to read an empty ring creates its first key (atomically: one script).
 * - **Signing**: the newest key created at least `2 × refreshMs` ago (Redis's clock) signs (the very
 *   first key signs at once), so every process has read a key before any state sealed with it
 *   reaches them; every key in the hash verifies.
 * - **Rotation**: `rotate()` adds a new key and marks the others retired; a retired key stays for
 *   `retireAfterMs + 2 × refreshMs`, so every round sealed before it stopped signing still opens.
 * - **Caching**: keys are read at most every `refreshMs` (only multi round-trip requests read them);
 *   while Redis is unreachable the last set read stays in use. Without any set read yet, `keys()`
 *   rejects with `anywire/redis: keyRing failed: ...` (the request gets -32603).
 * - **Garbage** in the hash (another type, fields that are not ours) is dropped.
 */
export class RedisKeyRing implements KeyRing {
  readonly key: string;
  readonly #client: RedisClient | undefined;
  readonly #owned: boolean;
  readonly #static: StateKey[] | undefined;
  readonly #refreshMs: number;
  readonly #retireMs: number;
  readonly #ttlMs: number;
  readonly #onerror?: (error: Error) => void;
  #cache: RingCache | undefined;
  #reading: Promise<StateKey[]> | undefined;

  /**
   * @param target a redis:// URL, a node-redis client (you keep owning it), connection options, or
   *   `undefined` with `options.keys`
   * @throws TypeError for a bad target, key prefix or keys; RangeError for an out-of-range option
   */
  constructor(
    target: string | RedisClient | RedisConnectionOptions | undefined,
    options: RedisKeyRingOptions = {},
  ) {
    const owner = 'RedisKeyRing';
    checkIntegerOption(owner, 'refreshMs', options.refreshMs, 1);
    checkIntegerOption(owner, 'retireAfterMs', options.retireAfterMs, 1);
    checkIntegerOption(owner, 'keyRingTtlMs', options.keyRingTtlMs, 1);
    this.#refreshMs = options.refreshMs ?? DEFAULT_KEY_RING_REFRESH_MS;
    this.#retireMs = options.retireAfterMs ?? DEFAULT_KEY_RING_RETIRE_AFTER_MS;
    this.#ttlMs = options.keyRingTtlMs ?? DEFAULT_KEY_RING_TTL_MS;
    if (this.#ttlMs < this.#retireMs + 2 * this.#refreshMs)
      throw new RangeError(`${owner}: keyRingTtlMs must be at least retireAfterMs + 2 × refreshMs`);
    this.#onerror = options.onerror;
    this.key = new RedisKeys('keyring', options.keyPrefix).key();
    if (options.keys !== undefined) {
      if (!Array.isArray(options.keys) || options.keys.length === 0)
        throw new TypeError(`${owner}: keys must be a non-empty array of { id, secret }`);
      for (const k of options.keys)
        if (
          typeof k?.id !== 'string' ||
          !k.id ||
          (typeof k.secret !== 'string' && !(k.secret instanceof Uint8Array))
        )
          throw new TypeError(`${owner}: each key needs a string id and a secret (string or Uint8Array)`);
      this.#static = [...options.keys];
      this.#owned = false;
      return;
    }
    if (target === undefined) throw new TypeError(`${owner}: pass a Redis target, or options.keys`);
    const { client, owned } = storeConnection(owner, target);
    this.#client = client;
    this.#owned = owned;
  }

  /** The keys, signing key first (read from Redis at most every `refreshMs`). */
  async keys(): Promise<StateKey[]> {
    if (this.#static) return this.#static;
    const cache = this.#cache;
    if (cache && Date.now() - cache.readAt < this.#refreshMs) return this.#signingFirst(cache);
    try {
      await this.#read('read');
    } catch (error) {
      if (!cache) throw error;
      // Redis unreachable: the keys read last still seal and open (they rotate rarely).
      this.#onerror?.(error as Error);
      return this.#signingFirst(cache);
    }
    return this.#signingFirst(this.#cache!);
  }

  /** Reads the keys from Redis now (for tests and operators). */
  async refresh(): Promise<StateKey[]> {
    if (this.#static) return this.#static;
    await this.#read('read', true);
    return this.#signingFirst(this.#cache!);
  }

  /**
   * Adds a new random key (it starts signing `2 × refreshMs` later) and retires the others (they
   * verify for `retireAfterMs + 2 × refreshMs` more).
   * @returns the new key's id
   * @throws Error with configured `keys`; `anywire/redis: keyRing failed: ...` when Redis is unreachable
   */
  async rotate(): Promise<string> {
    if (this.#static) throw new Error('RedisKeyRing: keys come from configuration; rotate them there');
    const id = toBase64Url(randomBytes(9));
    await this.#read('rotate', true, id);
    return id;
  }

  /** Closes the connection when the ring made it. */
  async close(): Promise<void> {
    if (this.#owned && this.#client) await closeClient(this.#client);
  }

  #signingFirst(cache: RingCache): StateKey[] {
    const now = Date.now() + cache.offsetMs;
    const all = cache.all; // newest first
    const signer = all.find((k) => k.createdMs + 2 * this.#refreshMs <= now) ?? all[all.length - 1];
    if (!signer) return cache.keys;
    if (cache.keys[0] === signer) return cache.keys;
    cache.keys = [signer, ...all.filter((k) => k !== signer)];
    return cache.keys;
  }

  #read(mode: 'read' | 'rotate', force = false, newId?: string): Promise<StateKey[]> {
    if (this.#reading && !force) return this.#reading;
    const run = async () => {
      let reply: unknown;
      try {
        reply = await RING.run(
          this.#client!,
          [this.key],
          [
            newId ?? toBase64Url(randomBytes(9)),
            toBase64Url(randomBytes(32)),
            this.#ttlMs,
            this.#retireMs,
            this.#refreshMs,
            mode,
          ],
        );
      } catch (error) {
        throw redisFailure('keyRing', error);
      }
      const flat = (reply as string[]).map(String);
      const redisNow = Number(flat[0]);
      const all: RingKey[] = [];
      for (let i = 1; i + 1 < flat.length; i += 2) {
        try {
          const v = JSON.parse(flat[i + 1]!) as { s: string; c: number; r: number };
          all.push({
            id: flat[i]!,
            secret: new Uint8Array(Buffer.from(v.s, 'base64url')),
            createdMs: v.c,
            retired: v.r > 0,
          });
        } catch {
          // not ours: skipped (the next read drops it)
        }
      }
      // Newest first; a key created in the same millisecond as the one that retired it (a rotation
      // right after the first key was made) is older than it.
      all.sort(
        (a, b) =>
          b.createdMs - a.createdMs || Number(a.retired) - Number(b.retired) || (a.id < b.id ? -1 : 1),
      );
      this.#cache = { keys: all, all, readAt: Date.now(), offsetMs: redisNow - Date.now() };
      return all;
    };
    const reading = run().finally(() => {
      if (this.#reading === reading) this.#reading = undefined;
    });
    this.#reading = reading;
    return reading;
  }
}
