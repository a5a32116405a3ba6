/**
 * Legacy session records and the per-session channel on Redis (`anywire/redis`): every process
 * given the same Redis serves every 2025-era Streamable HTTP session, and a session survives the
 * death of the process that created it.
 *
 * Keys (one hash per session, its TTL the session idle timeout, reset on every request):
 * `<prefix>session:{<id>}` with fields `rec` (the JSON of what `initialize` negotiated, the
 * principal and the creation time), `level` (the `logging/setLevel` level) and `subs` (a JSON array
 * of subscribed resource URIs). Channel: `<prefix>session:{<id>}:signal` (pub/sub), listened on by
 * a process only while it holds the session's GET stream or awaits a client's answer.
 * @module
 */
import { createClient } from 'redis';
import type { RedisClientType } from 'redis';
import {
  checkMaxRecordBytes,
  checkTtlMs,
  SessionRecordTooLargeError,
  toSessionRecord,
  utf8Bytes,
} from '../protocol/session-store.js';
import type {
  SessionPatch,
  SessionRecord,
  SessionRouter,
  SessionSignal,
  SessionStore,
} from '../protocol/session-store.js';

/** A node-redis client (v5+), connected or not: any modules, functions, scripts or RESP version. */
export type AnyRedisClient = RedisClientType<any, any, any, any, any>;

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** Prefix of every key and channel. Default `anywire:`. */
  keyPrefix?: string;
  /** Largest record, in bytes of its stored fields (UTF-8); larger ones are refused. Default 64 KiB. */
  maxSessionRecordBytes?: number;
  /** Where errors of connections this store opened are reported (they reconnect by themselves). */
  onerror?: (error: Error) => void;
}

// The record's hash, its TTL reset, only when it is a hash (anything else under the key is garbage).
const TOUCH = `if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('HMGET', KEYS[1], 'rec', 'level', 'subs')`;

// ARGV: ttlMs, maxBytes, level ('' keeps it, else '=' .. level), subs (same). Returns the new fields,
// false when there is no record, or {-1, bytes} when the result would be too large (nothing written).
const UPDATE = `if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
local f = redis.call('HMGET', KEYS[1], 'rec', 'level', 'subs')
if not f[1] then return false end
local level = f[2] or ''
local subs = f[3] or ''
if ARGV[3] ~= '' then level = string.sub(ARGV[3], 2) end
if ARGV[4] ~= '' then subs = string.sub(ARGV[4], 2) end
local size = #f[1] + #level + #subs
if size > tonumber(ARGV[2]) then return {-1, size} end
redis.call('HSET', KEYS[1], 'level', level, 'subs', subs)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {f[1], level, subs}`;

/**
 * The {@link SessionRouter} on Redis pub/sub: one extra connection per process (a duplicate of the
 * store's client, opened at the first subscription), one channel per session listened on.
 */
export class RedisSessionRouter implements SessionRouter {
  #client: () => Promise<AnyRedisClient>;
  #prefix: string;
  #onerror: ((error: Error) => void) | undefined;
  #subscriber: Promise<AnyRedisClient> | undefined;
  #channels = new Map<
    string,
    { listeners: Set<(s: SessionSignal) => void>; ready: Promise<void>; fn: (text: string) => void }
  >();
  #closed = false;

  /** @param client the store's client (publishes; its duplicate subscribes) */
  constructor(client: () => Promise<AnyRedisClient>, prefix: string, onerror?: (error: Error) => void) {
    this.#client = client;
    this.#prefix = prefix;
    this.#onerror = onerror;
  }

  #channel(sessionId: string): string {
    return `${this.#prefix}session:{${sessionId}}:signal`;
  }

  /** Sessions listened on right now. */
  get channels(): number {
    return this.#channels.size;
  }

  async publish(sessionId: string, signal: SessionSignal): Promise<number> {
    const client = await this.#client();
    return Number(await client.publish(this.#channel(sessionId), JSON.stringify(signal)));
  }

  #connectSubscriber(): Promise<AnyRedisClient> {
    this.#subscriber ??= this.#client().then(async (client) => {
      const sub = client.duplicate() as AnyRedisClient;
      sub.on('error', (e: Error) => this.#onerror?.(e));
      await sub.connect();
      return sub;
    });
    return this.#subscriber;
  }

  async subscribe(
    sessionId: string,
    listener: (signal: SessionSignal) => void,
  ): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('RedisSessionRouter is closed');
    const ch = this.#channel(sessionId);
    let entry = this.#channels.get(ch);
    if (!entry) {
      const listeners = new Set<(s: SessionSignal) => void>();
      const fn = (text: string) => {
        const signal = parseSignal(text);
        if (!signal) return;
        for (const l of [...listeners]) {
          try {
            l(signal);
          } catch (error) {
            this.#onerror?.(error as Error);
          }
        }
      };
      const ready = this.#connectSubscriber().then((sub) => sub.subscribe(ch, fn));
      const created = { listeners, ready, fn };
      entry = created;
      this.#channels.set(ch, created);
      ready.catch(() => {
        if (this.#channels.get(ch) === created) this.#channels.delete(ch);
      });
    }
    const own = entry;
    own.listeners.add(listener);
    await own.ready;
    return async () => {
      own.listeners.delete(listener);
      if (own.listeners.size > 0 || this.#channels.get(ch) !== own) return;
      this.#channels.delete(ch);
      const sub = await this.#subscriber?.catch(() => undefined);
      // Only this entry's listener goes: a new subscription of the same channel keeps its own.
      await sub?.unsubscribe(ch, own.fn).catch(() => {});
    };
  }

  /** Closes the subscribing connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    const sub = await this.#subscriber?.catch(() => undefined);
    this.#subscriber = undefined;
    if (sub?.isOpen) await sub.close().catch(() => sub.destroy());
  }
}

function parseSignal(text: string): SessionSignal | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as { type?: unknown; message?: unknown; by?: unknown };
  switch (s.type) {
    case 'wake':
    case 'state':
    case 'deleted':
      return { type: s.type };
    case 'takeover':
      return typeof s.by === 'string' ? { type: 'takeover', by: s.by } : undefined;
    case 'response':
      return typeof s.message === 'object' && s.message !== null && !Array.isArray(s.message)
        ? (s as SessionSignal)
        : undefined;
    default:
      return undefined;
  }
}

/**
 * A {@link SessionStore} on Redis, with its {@link RedisSessionRouter} (`router`). Give every
 * process the same Redis (and a shared event store, `RedisEventStore`), and pass it as
 * `sessionStore` (serveHttp option or `stores.sessionStore`).
 *
 * Garbage under a session's key (another type, unparsable or incomplete fields, a record naming
 * another session) reads as absent. A record over `maxSessionRecordBytes` is refused with
 * {@link SessionRecordTooLargeError}. A Redis failure rejects (the request is answered 500).
 * @throws RangeError when `maxSessionRecordBytes` is not an integer >= 1
 */
export class RedisSessionStore implements SessionStore {
  readonly router: RedisSessionRouter;
  #client: Promise<AnyRedisClient> | undefined;
  #given: AnyRedisClient | undefined;
  #url: string | undefined;
  #prefix: string;
  #maxBytes: number;
  #onerror: ((error: Error) => void) | undefined;

  /**
   * @param client a node-redis client (connected here if it is not yet; closing it stays the
   *   caller's), or a `redis://` URL (the store opens and closes its own client)
   */
  constructor(client: AnyRedisClient | string, options: RedisSessionStoreOptions = {}) {
    if (typeof client === 'string') this.#url = client;
    else this.#given = client;
    this.#prefix = options.keyPrefix ?? 'anywire:';
    this.#maxBytes = checkMaxRecordBytes('RedisSessionStore', options.maxSessionRecordBytes);
    this.#onerror = options.onerror;
    this.router = new RedisSessionRouter(() => this.#connected(), this.#prefix, options.onerror);
  }

  /** The key of a session's record. */
  key(sessionId: string): string {
    return `${this.#prefix}session:{${sessionId}}`;
  }

  #connected(): Promise<AnyRedisClient> {
    if (!this.#client) {
      const connecting = (async () => {
        let client = this.#given;
        if (!client) {
          client = createClient({ url: this.#url, disableOfflineQueue: true }) as unknown as AnyRedisClient;
          client.on('error', (e: Error) => this.#onerror?.(e));
        }
        if (!client.isOpen) await client.connect();
        return client;
      })();
      this.#client = connecting;
      // A failed first connection is retried by the next call.
      connecting.catch(() => {
        if (this.#client === connecting) this.#client = undefined;
      });
    }
    return this.#client;
  }

  async create(record: SessionRecord, ttlMs: number): Promise<void> {
    checkTtlMs(ttlMs);
    const { logLevel, subscriptions, ...rest } = record;
    const rec = JSON.stringify(rest);
    const level = logLevel ?? '';
    const subs = subscriptions ? JSON.stringify(subscriptions) : '';
    const bytes = utf8Bytes(rec) + utf8Bytes(level) + utf8Bytes(subs);
    if (bytes > this.#maxBytes) throw new SessionRecordTooLargeError(bytes, this.#maxBytes);
    const client = await this.#connected();
    const key = this.key(record.sessionId);
    await client.multi().del(key).hSet(key, { rec, level, subs }).pExpire(key, ttlMs).exec();
  }

  async touch(sessionId: string, ttlMs: number): Promise<SessionRecord | undefined> {
    checkTtlMs(ttlMs);
    const client = await this.#connected();
    const reply = await client.eval(TOUCH, { keys: [this.key(sessionId)], arguments: [String(ttlMs)] });
    return this.#decode(sessionId, reply);
  }

  async update(sessionId: string, patch: SessionPatch, ttlMs: number): Promise<SessionRecord | undefined> {
    checkTtlMs(ttlMs);
    const client = await this.#connected();
    const level = patch.logLevel === undefined ? '' : `=${patch.logLevel}`;
    const subs = patch.subscriptions === undefined ? '' : `=${JSON.stringify(patch.subscriptions)}`;
    const reply = await client.eval(UPDATE, {
      keys: [this.key(sessionId)],
      arguments: [String(ttlMs), String(this.#maxBytes), level, subs],
    });
    if (Array.isArray(reply) && reply[0] === -1)
      throw new SessionRecordTooLargeError(Number(reply[1]), this.#maxBytes);
    return this.#decode(sessionId, reply);
  }

  async delete(sessionId: string): Promise<void> {
    const client = await this.#connected();
    await client.del(this.key(sessionId));
  }

  /** Closes the router's connection, and the client when this store opened it. */
  async close(): Promise<void> {
    await this.router.close();
    const client = this.#url !== undefined ? await this.#client?.catch(() => undefined) : undefined;
    this.#client = undefined;
    if (client?.isOpen) await client.close().catch(() => client.destroy());
  }

  #decode(sessionId: string, reply: unknown): SessionRecord | undefined {
    if (!Array.isArray(reply)) return undefined;
    const [rec, level, subs] = reply as unknown[];
    if (typeof rec !== 'string') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(rec);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      if (typeof level === 'string' && level !== '') (value as Record<string, unknown>).logLevel = level;
      if (typeof subs === 'string' && subs !== '')
        (value as Record<string, unknown>).subscriptions = JSON.parse(subs);
    } catch {
      return undefined;
    }
    const record = toSessionRecord(value);
    return record?.sessionId === sessionId ? record : undefined;
  }
}
