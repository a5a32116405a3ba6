/**
 * `RedisEventStore`: the legacy SSE event store (2025-11-25 basic/transports "Resumability and
 * Redelivery") on Redis Streams, so a `Last-Event-ID` resumption works on any process and a
 * stream's events outlive the process that wrote them.
 * @module
 */
import type { JsonRpcMessage } from '../jsonrpc/types.js';
import { DEFAULT_ONCE_WINDOW_MS } from '../protocol/event-store.js';
import type { EventStore } from '../protocol/event-store.js';
import { checkIntegerOption } from '../protocol/option-checks.js';
import type { RedisClient, RedisConnectionOptions } from './connection.js';
import { closeClient, connected, isWrongType, redisFailure, storeConnection } from './connection.js';
import { escapeKeyPart, RedisKeys } from './keys.js';
import { RedisScript } from './script.js';
import { randomHex } from '../protocol/random-hex.js';

/** Default of {@link RedisEventStoreOptions.maxEventsPerStream}. */
export const DEFAULT_REDIS_MAX_EVENTS_PER_STREAM = 1000;
/** Default of {@link RedisEventStoreOptions.maxEventBytes}: 4 MiB. */
export const DEFAULT_REDIS_MAX_EVENT_BYTES = 4 * 1024 * 1024;
/** Default of {@link RedisEventStoreOptions.maxStreamBytes}: 16 MiB. */
export const DEFAULT_REDIS_MAX_STREAM_BYTES = 16 * 1024 * 1024;
/** Default of {@link RedisEventStoreOptions.maxStreamsPerSession}. */
export const DEFAULT_REDIS_MAX_STREAMS_PER_SESSION = 1000;
/** Default of {@link RedisEventStoreOptions.eventTtlMs}: 1 h (twice the default session idle timeout). */
export const DEFAULT_REDIS_EVENT_TTL_MS = 3_600_000;
/** Entries read per XRANGE while replaying. */
const REPLAY_PAGE = 500;

/** Options of {@link RedisEventStore}. */
export interface RedisEventStoreOptions {
  /** Prefix of every key. Default `anywire:`. */
  keyPrefix?: string;
  /** Events kept per stream (the oldest are dropped beyond). Default 1000. */
  maxEventsPerStream?: number;
  /**
   * Largest event stored, in bytes of its JSON text (UTF-8); `storeEvent` rejects a larger one with
   * a RangeError (the binding then sends it without an id: it cannot be resumed). Default 4 MiB.
   */
  maxEventBytes?: number;
  /** Bytes of event JSON kept per stream (UTF-8); the oldest events are dropped beyond. Default 16 MiB. */
  maxStreamBytes?: number;
  /** Streams per session; `storeEvent` on one more rejects (that event cannot be resumed). Default 1000. */
  maxStreamsPerSession?: number;
  /**
   * Time to live of every key, in ms, renewed on each write; at least the session idle timeout so a
   * process that dies leaves nothing behind for longer. Default 3 600 000 (1 h).
   */
  eventTtlMs?: number;
  /**
   * How long `storeEventOnce` remembers a key, in ms (a broadcast heard by several processes is
   * stored once within it). Default 60 000.
   */
  onceWindowMs?: number;
}

/** One event read back by {@link RedisEventStore.readEventsAfter}. */
export interface StoredEventEntry {
  /** Its event id (what `Last-Event-ID` carries). */
  id: string;
  message: JsonRpcMessage;
}

// The tail of STORE and STORE_ONCE: appends ARGV[3]=ARGV[4] to the stream KEYS[2] of token `tok`,
// trims it to its bounds, renews both TTLs and returns {tok, entry id}.
const APPEND = `
local id = redis.call('XADD', KEYS[2], '*', ARGV[3], ARGV[4])
local bytes = (tonumber(redis.call('HGET', KEYS[1], 'b:' .. tok)) or 0) + string.len(ARGV[4])
local maxEvents = tonumber(ARGV[5])
local maxBytes = tonumber(ARGV[6])
local len = redis.call('XLEN', KEYS[2])
while len > 1 and (len > maxEvents or bytes > maxBytes) do
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  local f = first[2]
  for i = 1, #f, 2 do
    if f[i] == 'd' then bytes = bytes - string.len(f[i + 1]) end
  end
  redis.call('XDEL', KEYS[2], first[1])
  len = len - 1
end
if bytes < 0 then bytes = 0 end
redis.call('HSET', KEYS[1], 'b:' .. tok, bytes)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return {tok, id}
`;

// KEYS[1] session index (hash), KEYS[2] the stream (Redis Stream).
// ARGV: streamId, new token, field ('d' data or 'p' priming), data, maxEvents, maxStreamBytes,
// ttlMs, maxStreams (and onceWindowMs, unused here). Returns {token, entry id}. Garbage under
// either key (another type) is dropped.
const STORE = new RedisScript(`
local function fix(key, want)
  local t = redis.call('TYPE', key).ok
  if t ~= want and t ~= 'none' then redis.call('DEL', key) end
end
fix(KEYS[1], 'hash')
fix(KEYS[2], 'stream')
local tok = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
if not tok or #tok ~= 32 or not string.match(tok, '^%x+$') then
  if redis.call('HLEN', KEYS[1]) >= 3 * tonumber(ARGV[8]) then
    return redis.error_reply('ANYWIRE_LIMIT too many streams in this session (maxStreamsPerSession)')
  end
  tok = ARGV[2]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 's:' .. ARGV[1], tok, 't:' .. tok, ARGV[1], 'b:' .. tok, 0)
end
${APPEND}`);

// As STORE, on a stream that exists only, and once per KEYS[3] (a string kept ARGV[9] ms): nil when
// the stream does not exist (or is garbage) or KEYS[3] was set already.
const STORE_ONCE = new RedisScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' or redis.call('TYPE', KEYS[2]).ok ~= 'stream' then
  return false
end
local tok = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
if not tok or #tok ~= 32 or not string.match(tok, '^%x+$') then return false end
local once = redis.call('TYPE', KEYS[3]).ok
if once ~= 'none' and once ~= 'string' then redis.call('DEL', KEYS[3]) end
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[9]) then return false end
${APPEND}`);

// KEYS[1] session index, KEYS[2] the stream. ARGV[1] streamId. Forgets the stream.
const DELETE_STREAM = new RedisScript(`
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  local tok = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
  redis.call('HDEL', KEYS[1], 's:' .. ARGV[1])
  if tok then redis.call('HDEL', KEYS[1], 't:' .. tok, 'b:' .. tok) end
end
redis.call('DEL', KEYS[2])
return 1
`);

const EVENT_ID = /^([0-9a-f]{32})\.([0-9]{1,20}-[0-9]{1,20})$/;

function parseMessage(data: unknown): JsonRpcMessage | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonRpcMessage) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An {@link EventStore} on Redis Streams, shared by every process on the same Redis and prefix.
 *
 * - **Keys** (`S` the escaped session id, in a hash tag so a session's keys share one Cluster
 *   slot): `<prefix>es:{S}:i`, a hash indexing the session's streams (`s:<stream id>` → token,
 *   `t:<token>` → stream id, `b:<token>` → bytes held); `<prefix>es:{S}:x:<stream id>`, a Redis
 *   Stream of the events (field `d` the message's JSON text, `p` a priming event). Both carry a TTL
 *   of `eventTtlMs`, renewed on every write. `<prefix>es:{S}:o:<key>`, a marker set by
 *   `storeEventOnce` (a broadcast stored once for the session), kept `onceWindowMs`.
 * - **Event ids** are `<token>.<entry id>`: the token is 128 random bits drawn when the stream is
 *   first written (again after it was deleted), the entry id the Redis Stream's (`<ms>-<seq>`). An
 *   id is looked up only in the index of the session asking, so another session's id, a deleted
 *   stream's id or a made-up one replays nothing.
 * - **Bounds**: `maxEventsPerStream` events and `maxStreamBytes` bytes per stream (oldest dropped
 *   first, in the same script that adds), `maxEventBytes` per event, `maxStreamsPerSession`.
 * - **Garbage** under these keys (another type, entries that are not ours, invalid JSON) is
 *   treated as absent: read as nothing, replaced on the next write.
 * - **Errors**: a failed command rejects with `anywire/redis: <operation> failed: <reason>`
 *   (commands fail at once while Redis is unreachable); the binding then sends the event without
 *   an id, or answers the resumption with HTTP 500.
 */
export class RedisEventStore implements EventStore {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #keys: RedisKeys;
  readonly #maxEvents: number;
  readonly #maxEventBytes: number;
  readonly #maxStreamBytes: number;
  readonly #maxStreams: number;
  readonly #ttlMs: number;
  readonly #onceWindowMs: number;

  /**
   * @param target a redis:// URL, a node-redis client (you keep owning it), or connection options
   * @throws TypeError for a bad target or key prefix; RangeError for an out-of-range option (or
   * `maxEventBytes` above `maxStreamBytes`)
   */
  constructor(target: string | RedisClient | RedisConnectionOptions, options: RedisEventStoreOptions = {}) {
    const owner = 'RedisEventStore';
    checkIntegerOption(owner, 'maxEventsPerStream', options.maxEventsPerStream, 1);
    checkIntegerOption(owner, 'maxEventBytes', options.maxEventBytes, 1);
    checkIntegerOption(owner, 'maxStreamBytes', options.maxStreamBytes, 1);
    checkIntegerOption(owner, 'maxStreamsPerSession', options.maxStreamsPerSession, 1);
    checkIntegerOption(owner, 'eventTtlMs', options.eventTtlMs, 1);
    checkIntegerOption(owner, 'onceWindowMs', options.onceWindowMs, 1);
    this.#onceWindowMs = options.onceWindowMs ?? DEFAULT_ONCE_WINDOW_MS;
    this.#maxEvents = options.maxEventsPerStream ?? DEFAULT_REDIS_MAX_EVENTS_PER_STREAM;
    this.#maxStreamBytes = options.maxStreamBytes ?? DEFAULT_REDIS_MAX_STREAM_BYTES;
    this.#maxEventBytes =
      options.maxEventBytes ?? Math.min(DEFAULT_REDIS_MAX_EVENT_BYTES, this.#maxStreamBytes);
    if (this.#maxEventBytes > this.#maxStreamBytes)
      throw new RangeError(
        `${owner}: maxEventBytes (${this.#maxEventBytes}) must not exceed maxStreamBytes (${this.#maxStreamBytes})`,
      );
    this.#maxStreams = options.maxStreamsPerSession ?? DEFAULT_REDIS_MAX_STREAMS_PER_SESSION;
    this.#ttlMs = options.eventTtlMs ?? DEFAULT_REDIS_EVENT_TTL_MS;
    this.#keys = new RedisKeys('es', options.keyPrefix);
    const { client, owned } = storeConnection(owner, target);
    this.#client = client;
    this.#owned = owned;
  }

  /** The key of a session's stream index. */
  indexKey(sessionId: string): string {
    return this.#keys.key(RedisKeys.tag(sessionId), 'i');
  }

  /** The key of one stream's events. */
  streamKey(sessionId: string, streamId: string): string {
    return this.#keys.key(RedisKeys.tag(sessionId), 'x', escapeKeyPart(streamId));
  }

  /**
   * Appends `message` (or a priming event, `null`) to the stream and resolves to its event id.
   * @throws RangeError when the message exceeds `maxEventBytes`; Error `anywire/redis: storeEvent
   * failed: ...` when Redis refuses or is unreachable, or the session has `maxStreamsPerSession`
   * streams
   */
  async storeEvent(sessionId: string, streamId: string, message: JsonRpcMessage | null): Promise<string> {
    const id = await this.#append(STORE, 'storeEvent', sessionId, streamId, message, []);
    return id!;
  }

  /**
   * Appends `message` to an existing stream once per `key` (the {@link EventStore} contract): one
   * script that checks the stream, sets `<prefix>es:{S}:o:<key>` if absent (kept `onceWindowMs`),
   * then appends and trims as `storeEvent`.
   * @returns the new event id; `undefined` when the key was set already or the stream does not exist
   * @throws as `storeEvent`
   */
  storeEventOnce(
    sessionId: string,
    streamId: string,
    message: JsonRpcMessage,
    key: string,
  ): Promise<string | undefined> {
    const marker = this.#keys.key(RedisKeys.tag(sessionId), 'o', escapeKeyPart(key));
    return this.#append(STORE_ONCE, 'storeEventOnce', sessionId, streamId, message, [marker]);
  }

  /** Runs STORE or STORE_ONCE (`marker` set: its key); the new event id, `undefined` for a nil reply. */
  async #append(
    script: RedisScript,
    op: string,
    sessionId: string,
    streamId: string,
    message: JsonRpcMessage | null,
    marker: string[],
  ): Promise<string | undefined> {
    const data = message === null ? '' : JSON.stringify(message);
    const bytes = Buffer.byteLength(data);
    if (bytes > this.#maxEventBytes)
      throw new RangeError(
        `RedisEventStore: event of ${bytes} bytes exceeds maxEventBytes (${this.#maxEventBytes}); not stored`,
      );
    const args = [
      streamId,
      randomHex(16),
      message === null ? 'p' : 'd',
      data,
      this.#maxEvents,
      this.#maxStreamBytes,
      this.#ttlMs,
      this.#maxStreams,
      this.#onceWindowMs,
    ];
    let reply: unknown;
    try {
      reply = await script.run(
        this.#client,
        [this.indexKey(sessionId), this.streamKey(sessionId, streamId), ...marker],
        args,
      );
    } catch (error) {
      throw redisFailure(op, error);
    }
    if (!Array.isArray(reply)) return undefined;
    const [token, entryId] = reply as [string, string];
    return `${token}.${entryId}`;
  }

  async replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JsonRpcMessage) => Promise<void> | void,
  ): Promise<string | undefined> {
    const found = await this.#locate(sessionId, lastEventId, 'replayEventsAfter');
    if (!found) return undefined;
    // A snapshot: up to the last entry now, read in pages.
    let end: string | undefined;
    try {
      const last = await this.#client.xRevRange(found.key, '+', '-', { COUNT: 1 });
      end = last?.[0]?.id;
    } catch (error) {
      if (!isWrongType(error)) throw redisFailure('replayEventsAfter', error);
    }
    let after = found.entryId;
    while (end !== undefined && compareEntryIds(after, end) < 0) {
      const page = await this.#range(found.key, after, end, REPLAY_PAGE, 'replayEventsAfter');
      if (page.length === 0) break;
      for (const e of page) {
        after = e.entryId;
        if (e.message) await send(`${found.token}.${e.entryId}`, e.message);
      }
    }
    return found.streamId;
  }

  /**
   * Reads up to `maxEvents` events stored after `lastEventId` on its stream (priming events
   * skipped), without waiting: what another process calls to follow a stream that this store's
   * writer is still writing (call again with the last id read). One index lookup and one XRANGE.
   * @returns the stream id and the events, or `undefined` when the id is unknown or not `sessionId`'s
   * @throws Error `anywire/redis: readEventsAfter failed: ...` when Redis is unreachable
   */
  async readEventsAfter(
    sessionId: string,
    lastEventId: string,
    maxEvents = REPLAY_PAGE,
  ): Promise<{ streamId: string; events: StoredEventEntry[] } | undefined> {
    checkIntegerOption('RedisEventStore.readEventsAfter', 'maxEvents', maxEvents, 1);
    const found = await this.#locate(sessionId, lastEventId, 'readEventsAfter');
    if (!found) return undefined;
    const page = await this.#range(found.key, found.entryId, '+', maxEvents, 'readEventsAfter');
    const events: StoredEventEntry[] = [];
    for (const e of page)
      if (e.message) events.push({ id: `${found.token}.${e.entryId}`, message: e.message });
    return { streamId: found.streamId, events };
  }

  async deleteStream(sessionId: string, streamId: string): Promise<void> {
    try {
      await DELETE_STREAM.run(
        this.#client,
        [this.indexKey(sessionId), this.streamKey(sessionId, streamId)],
        [streamId],
      );
    } catch (error) {
      throw redisFailure('deleteStream', error);
    }
  }

  async deleteSession(sessionId: string): Promise<void> {
    const index = this.indexKey(sessionId);
    const keys = [index];
    await connected(this.#client);
    try {
      const fields = await this.#client.hGetAll(index);
      for (const field of Object.keys(fields))
        if (field.startsWith('s:')) keys.push(this.streamKey(sessionId, field.slice(2)));
    } catch (error) {
      if (!isWrongType(error)) throw redisFailure('deleteSession', error);
    }
    try {
      await this.#client.del(keys); // one slot: the session's hash tag
    } catch (error) {
      throw redisFailure('deleteSession', error);
    }
  }

  /** Closes the connection when the store made it. */
  async close(): Promise<void> {
    if (this.#owned) await closeClient(this.#client);
  }

  /** The stream of an event id, looked up in `sessionId`'s index only. */
  async #locate(sessionId: string, lastEventId: string, op: string) {
    const m = typeof lastEventId === 'string' ? EVENT_ID.exec(lastEventId) : null;
    if (!m) return undefined;
    const token = m[1]!;
    let streamId: string | null | undefined;
    await connected(this.#client);
    try {
      streamId = await this.#client.hGet(this.indexKey(sessionId), `t:${token}`);
    } catch (error) {
      if (isWrongType(error)) return undefined;
      throw redisFailure(op, error);
    }
    if (typeof streamId !== 'string') return undefined;
    return { token, entryId: m[2]!, streamId, key: this.streamKey(sessionId, streamId) };
  }

  /** Entries after `after` (exclusive) up to `end`, with their message (`undefined`: priming or garbage). */
  async #range(key: string, after: string, end: string, count: number, op: string) {
    let entries: { id: string; message: Record<string, unknown> }[] | null;
    try {
      entries = (await this.#client.xRange(key, `(${after}`, end, { COUNT: count })) as typeof entries;
    } catch (error) {
      if (isWrongType(error) || /Invalid stream ID/i.test(String(error))) return [];
      throw redisFailure(op, error);
    }
    return (entries ?? []).map((e) => ({ entryId: e.id, message: parseMessage(e.message?.d) }));
  }
}

/** Orders two stream entry ids (`<ms>-<seq>`). */
function compareEntryIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? (as < bs ? -1 : as > bs ? 1 : 0) : am < bm ? -1 : 1;
}
