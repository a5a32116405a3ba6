/**
 * Legacy session records and the per-session channel on Redis (`anywire/redis`): every process
 * given the same Redis serves every 2025-era Streamable HTTP session, and a session survives the
 * death of the process that created it.
 *
 * Keys (one hash per session, its TTL the session idle timeout, reset on every request):
 * `<prefix>session:{<id>}` with fields `rec` (the JSON of what `initialize` negotiated, the
 * principal and the creation time), `level` (the `logging/setLevel` level) and `subs` (a JSON array
 * of subscribed resource URIs). Channel: `<prefix>session:{<id>}:signal` (pub/sub), listened on by
 * a process only while it holds the session's GET stream or awaits a client's answer. POST stream
 * records and process leases: see `RedisPostStreamRegistry` (`postStreams`).
 * @module
 */
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
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import {
  closeClient,
  connectionReporter,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  redisFailure,
  storeConnection,
  watchConnection,
  whenReady,
} from './connection.js';
import { RedisKeys } from './keys.js';
import { RedisPostStreamRegistry } from './post-streams.js';

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** Prefix of every key and channel. Default `anywire:`. */
  keyPrefix?: string;
  /** Largest record, in bytes of its stored fields (UTF-8); larger ones are refused. Default 64 KiB. */
  maxSessionRecordBytes?: number;
  /** Where connection errors are reported (first of each outage; they reconnect by themselves). */
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
  #client: RedisClient;
  #keys: RedisKeys;
  #onerror: ((error: Error) => void) | undefined;
  #subscriber: Promise<RedisClient> | undefined;
  #channels = new Map<
    string,
    { listeners: Set<(s: SessionSignal) => void>; ready: Promise<void>; fn: (text: string) => void }
  >();
  #closed = false;

  /** @param client the store's client (publishes; its duplicate subscribes) */
  constructor(client: RedisClient, keys: RedisKeys, onerror?: (error: Error) => void) {
    this.#client = client;
    this.#keys = keys;
    this.#onerror = onerror;
  }

  /** The channel of a session: `<prefix>session:{<escaped id>}:signal`. */
  channel(sessionId: string): string {
    return this.#keys.channel(`${RedisKeys.tag(sessionId)}:signal`);
  }

  /** Sessions listened on right now. */
  get channels(): number {
    return this.#channels.size;
  }

  async publish(sessionId: string, signal: SessionSignal): Promise<number> {
    // A client not connected yet is waited for; one reconnecting fails at once (no offline queue).
    if (!this.#client.isOpen) await whenReady(this.#client, DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
    return Number(await this.#client.publish(this.channel(sessionId), JSON.stringify(signal)));
  }

  #connectSubscriber(): Promise<RedisClient> {
    if (!this.#subscriber) {
      const connecting = (async () => {
        const sub = this.#client.duplicate();
        watchConnection(sub, 'RedisSessionRouter (subscriber)', this.#onerror);
        await sub.connect();
        return sub;
      })();
      this.#subscriber = connecting;
      // A failed first connection is retried by the next subscription.
      connecting.catch(() => {
        if (this.#subscriber === connecting) this.#subscriber = undefined;
      });
    }
    return this.#subscriber;
  }

  async subscribe(
    sessionId: string,
    listener: (signal: SessionSignal) => void,
  ): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('RedisSessionRouter is closed');
    const ch = this.channel(sessionId);
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
    if (sub) await closeClient(sub);
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
    case 'cancel': {
      const c = v as { requestId?: unknown; reason?: unknown };
      if (typeof c.requestId !== 'string' && typeof c.requestId !== 'number') return undefined;
      return typeof c.reason === 'string'
        ? { type: 'cancel', requestId: c.requestId, reason: c.reason }
        : { type: 'cancel', requestId: c.requestId };
    }
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
  /** POST stream records and process leases, on the same client and prefix. */
  readonly postStreams: RedisPostStreamRegistry;
  /** The client in use (yours, or one this store made from a URL). */
  readonly client: RedisClient;
  #owned: boolean;
  #connectedOnce = false;
  #keys: RedisKeys;
  #maxBytes: number;

  /**
   * @param target a `redis://` URL or connection options (the store makes, connects and closes its
   *   own client), or a node-redis client of yours (you connect and close it)
   * @throws TypeError for a bad target or key prefix; RangeError for an out-of-range option
   */
  constructor(target: string | RedisClient | RedisConnectionOptions, options: RedisSessionStoreOptions = {}) {
    this.#maxBytes = checkMaxRecordBytes('RedisSessionStore', options.maxSessionRecordBytes);
    this.#keys = new RedisKeys('session', options.keyPrefix);
    const onerror = options.onerror ?? connectionReporter(target);
    const { client, owned } = storeConnection('RedisSessionStore', target, onerror);
    this.client = client;
    this.#owned = owned;
    this.router = new RedisSessionRouter(client, this.#keys, onerror);
    this.postStreams = new RedisPostStreamRegistry((op, fn) => this.#run(op, fn), this.#keys);
  }

  /** The key of a session's record: `<prefix>session:{<escaped id>}`. */
  key(sessionId: string): string {
    return this.#keys.key(RedisKeys.tag(sessionId));
  }

  /**
   * Runs one operation on the client (a client this store made is waited for, at most 5 s, before
   * its first command). @throws Error `anywire/redis: session <op> failed: <reason>`
   */
  async #run<T>(op: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      if (this.#owned && !this.#connectedOnce) {
        await whenReady(this.client, DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
        this.#connectedOnce = true;
      }
      return await fn(this.client);
    } catch (error) {
      throw redisFailure(`session ${op}`, error);
    }
  }

  async create(record: SessionRecord, ttlMs: number): Promise<void> {
    checkTtlMs(ttlMs);
    const { logLevel, subscriptions, ...rest } = record;
    const rec = JSON.stringify(rest);
    const level = logLevel ?? '';
    const subs = subscriptions ? JSON.stringify(subscriptions) : '';
    const bytes = utf8Bytes(rec) + utf8Bytes(level) + utf8Bytes(subs);
    if (bytes > this.#maxBytes) throw new SessionRecordTooLargeError(bytes, this.#maxBytes);
    const key = this.key(record.sessionId);
    await this.#run('create', (c) =>
      c.multi().del(key).hSet(key, { rec, level, subs }).pExpire(key, ttlMs).exec(),
    );
  }

  async touch(sessionId: string, ttlMs: number): Promise<SessionRecord | undefined> {
    checkTtlMs(ttlMs);
    const reply = await this.#run('touch', (c) =>
      c.eval(TOUCH, { keys: [this.key(sessionId)], arguments: [String(ttlMs)] }),
    );
    return this.#decode(sessionId, reply);
  }

  async update(sessionId: string, patch: SessionPatch, ttlMs: number): Promise<SessionRecord | undefined> {
    checkTtlMs(ttlMs);
    const level = patch.logLevel === undefined ? '' : `=${patch.logLevel}`;
    const subs = patch.subscriptions === undefined ? '' : `=${JSON.stringify(patch.subscriptions)}`;
    const reply = await this.#run('update', (c) =>
      c.eval(UPDATE, {
        keys: [this.key(sessionId)],
        arguments: [String(ttlMs), String(this.#maxBytes), level, subs],
      }),
    );
    if (Array.isArray(reply) && reply[0] === -1)
      throw new SessionRecordTooLargeError(Number(reply[1]), this.#maxBytes);
    return this.#decode(sessionId, reply);
  }

  async delete(sessionId: string): Promise<void> {
    await this.#run('delete', (c) => c.del(this.key(sessionId)));
  }

  /** Closes the router's connection, and the client when this store opened it. */
  async close(): Promise<void> {
    await this.router.close();
    if (this.#owned) await closeClient(this.client);
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
