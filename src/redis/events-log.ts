/**
 * The occurrence log of the Events extension on Redis Streams ({@link EventLog}): one stream per
 * event name, `<prefix>events:log:{<name>}`, appended with `XADD ... MAXLEN <maxEventsPerName>`
 * (exact trimming) and kept `logTtlMs` after its last append. The stream ids (`<ms>-<seq>`, Redis's
 * clock) are the cursors, so every process sharing the Redis reads the same positions. An
 * occurrence's `eventId` is logged once: `<prefix>events:seen:{<name>}:<eventId>` (same slot) is
 * set with the append, in one script, for `logTtlMs`, and so is `<prefix>events:trimmed:{<name>}`,
 * the id of the newest occurrence trimmed away: a cursor behind it, a missing stream (expired) or
 * `maxAgeMs` make `truncated`. Node-only.
 * @module
 */
import type { EventLog, EventLogEntry, EventLogStart } from '../events/stores.js';
import type { EmittedEvent } from '../events/types.js';
import type { EventsRedisClient, EventsRedisOptions } from './events-common.js';
import {
  compareIds,
  dropUnless,
  entriesOf,
  esc,
  hashOf,
  isWrongType,
  keyPrefixOf,
  parseJson,
  positiveInteger,
  run,
  script,
  streamId,
  tag,
} from './events-common.js';

/** Options of {@link RedisEventLog}. */
export interface RedisEventLogOptions extends EventsRedisOptions {
  /** Occurrences kept per event name (exact `MAXLEN`). Default 1 000. */
  maxEventsPerName?: number;
  /** How long a name's log (and each eventId's once-only mark) lives after its last append, in ms. Default 86 400 000 (24 h). */
  logTtlMs?: number;
}

/** The position before any occurrence (the head of an empty or expired log). */
const ORIGIN = '0-0';

// KEYS: stream, seen mark, trimmed mark. ARGV: body, maxlen, ttl ms.
const APPEND = script(`${dropUnless(1, 'stream')}
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return false end
local over = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2]) + 1
if over > 0 then
  local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', over)
  redis.call('SET', KEYS[3], gone[#gone][1], 'PX', ARGV[3])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'o', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function entryOf(id: string, fields: Record<string, string>, name: string): EventLogEntry | undefined {
  const o = parseJson(fields.o);
  if (!isObject(o) || !isObject(o.event)) return undefined;
  const e = o.event;
  if (
    typeof e.eventId !== 'string' ||
    e.name !== name ||
    typeof e.timestamp !== 'string' ||
    !isObject(e.data)
  )
    return undefined;
  const entry: EventLogEntry = { cursor: id, event: e as unknown as EmittedEvent };
  if (typeof o.principal === 'string') entry.principal = o.principal;
  return entry;
}

/** The Redis {@link EventLog}. See the module docs; the contract is the interface's. */
export class RedisEventLog implements EventLog {
  readonly #client: EventsRedisClient;
  readonly #prefix: string;
  readonly #max: number;
  readonly #ttlMs: number;

  /**
   * @param client a connected node-redis client (the caller owns it)
   * @throws RangeError or TypeError for a bad option
   */
  constructor(client: EventsRedisClient, options: RedisEventLogOptions = {}) {
    this.#client = client;
    this.#prefix = keyPrefixOf(options);
    this.#max = positiveInteger('RedisEventLog', 'maxEventsPerName', options.maxEventsPerName, 1000);
    this.#ttlMs = positiveInteger('RedisEventLog', 'logTtlMs', options.logTtlMs, 86_400_000);
  }

  /** The stream key of `name`. */
  key(name: string): string {
    return `${this.#prefix}events:log:${tag(name)}`;
  }

  async append(event: EmittedEvent, options: { principal?: string } = {}): Promise<string | undefined> {
    const body = JSON.stringify(
      options.principal !== undefined ? { event, principal: options.principal } : { event },
    );
    const seen = `${this.#prefix}events:seen:${tag(event.name)}:${esc(event.eventId)}`;
    const keys = [this.key(event.name), seen, this.#trimmedKey(event.name)];
    const id = await run<string | null>(this.#client, APPEND, keys, [body, this.#max, this.#ttlMs]);
    return typeof id === 'string' ? id : undefined;
  }

  /** The id of the newest occurrence of `name` trimmed away (same slot as the stream). */
  #trimmedKey(name: string): string {
    return `${this.#prefix}events:trimmed:${tag(name)}`;
  }

  async head(name: string): Promise<string> {
    try {
      const last = entriesOf(
        await this.#client.sendCommand(['XREVRANGE', this.key(name), '+', '-', 'COUNT', '1']),
      );
      return last[0]?.[0] ?? ORIGIN;
    } catch (error) {
      if (isWrongType(error)) return ORIGIN;
      throw error;
    }
  }

  /** `last-generated-id` and `max-deleted-entry-id` of a stream; undefined when it is missing (or garbage). */
  async #info(name: string): Promise<{ last: string; deleted: string } | undefined> {
    try {
      const info = hashOf(await this.#client.sendCommand(['XINFO', 'STREAM', this.key(name)]));
      const last = info['last-generated-id'];
      if (!last || !streamId(last)) return undefined;
      const trimmed = await this.#client.sendCommand(['GET', this.#trimmedKey(name)]).catch(() => null);
      const ids = [info['max-deleted-entry-id'], typeof trimmed === 'string' ? trimmed : undefined]
        .map(streamId)
        .filter((x): x is [bigint, bigint] => x !== undefined);
      const deleted = ids.sort(compareIds).pop();
      return { last, deleted: deleted ? `${deleted[0]}-${deleted[1]}` : ORIGIN };
    } catch (error) {
      const m = String((error as Error)?.message);
      if (isWrongType(error) || m.includes('no such key')) return undefined;
      throw error;
    }
  }

  async start(name: string, cursor: unknown, maxAgeMs?: number): Promise<EventLogStart> {
    if (cursor === null || cursor === undefined) return { cursor: await this.head(name), truncated: false };
    const at = streamId(cursor);
    const info = await this.#info(name);
    if (!info) return { cursor: ORIGIN, truncated: cursor !== ORIGIN };
    const last = streamId(info.last)!;
    if (!at || compareIds(at, last) > 0) return { cursor: await this.head(name), truncated: true };
    let after = cursor as string;
    const deleted = streamId(info.deleted);
    let truncated = deleted !== undefined && compareIds(deleted, at) > 0;
    if (maxAgeMs !== undefined) {
      const floor = BigInt(Math.max(0, Math.floor(Date.now() - maxAgeMs)));
      if (at[0] < floor) {
        // The newest occurrence after the cursor that is older than the floor.
        const older = entriesOf(
          await this.#client.sendCommand([
            'XREVRANGE',
            this.key(name),
            `(${floor}-0`,
            `(${after}`,
            'COUNT',
            '1',
          ]),
        );
        if (older[0]) {
          after = older[0][0];
          truncated = true;
        }
      }
    }
    return { cursor: after, truncated };
  }

  async read(name: string, after: string, limit: number): Promise<EventLogEntry[]> {
    if (!streamId(after)) return [];
    let reply: unknown;
    try {
      reply = await this.#client.sendCommand([
        'XRANGE',
        this.key(name),
        `(${after}`,
        '+',
        'COUNT',
        String(limit),
      ]);
    } catch (error) {
      if (isWrongType(error)) return [];
      throw error;
    }
    const out: EventLogEntry[] = [];
    for (const [id, fields] of entriesOf(reply)) {
      const entry = entryOf(id, fields, name);
      if (entry) out.push(entry);
    }
    return out;
  }
}
