/**
 * `RedisTaskLeases`: the {@link TaskLeases} of the Tasks extension on Redis, the work queue that
 * keeps a task alive across the death of the node running it.
 *
 * Key layout (prefix `anywire:` by default):
 * - `anywire:leases:{queue}:due`: a sorted set of task ids by the time their lease runs out (ms, by the
 *   Redis server's clock: `TIME`, so the nodes' clocks do not matter);
 * - `anywire:leases:{queue}:holders`: a hash, task id → `<attempt>|<node id>`;
 * - `anywire:task:{<taskId, escaped>}:request`: the stored `tools/call` of a task that may be re-run (JSON,
 *   `PX` the task's remaining ttl), in its task's hash slot.
 *
 * Every lease operation is one Lua script on the `{queue}` slot, so a claim is atomic: when every
 * node sweeps at once, each expired lease goes to exactly one. The queue's keys live at least
 * `queueTtlMs` after their last write. Garbage under these keys is treated as absent.
 * @module
 */
import type {
  TaskLeaseAcquireOptions,
  TaskLeaseClaim,
  TaskLeases,
  TaskRunRequest,
} from '../protocol/task-leases.js';
import { checkIntegerOption } from '../protocol/option-checks.js';
import { isWrongType } from './connection.js';
import { RedisKeys } from './keys.js';
import type { RedisTarget } from './task-lua.js';
import { asArray, asString, CommandLink, LUA_HELPERS, LuaScript } from './task-lua.js';
import { taskKey } from './task-store.js';

/** How long the lease queue's keys outlive their last write, by default (24 h). */
export const DEFAULT_LEASE_QUEUE_TTL_MS = 86_400_000;

/** Options of {@link RedisTaskLeases}. */
export interface RedisTaskLeasesOptions {
  /** Prefix of every key (no `{` or `}`). Default `anywire:`; use the task store's. */
  keyPrefix?: string;
  /**
   * How long the queue's keys live after their last write, in ms (>= 1000). A lease nobody renews
   * or claims for this long (every node down) is forgotten. Default {@link DEFAULT_LEASE_QUEUE_TTL_MS}.
   */
  queueTtlMs?: number;
}

const ACQUIRE = new LuaScript(`${LUA_HELPERS}
reset(KEYS[1], 'zset')
reset(KEYS[2], 'hash')
local b1 = redis.call('PTTL', KEYS[1])
local b2 = redis.call('PTTL', KEYS[2])
redis.call('ZADD', KEYS[1], nowms() + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], '1|' .. ARGV[2])
keep(KEYS[1], tonumber(ARGV[4]), b1)
keep(KEYS[2], tonumber(ARGV[4]), b2)
return 1
`);

const HOLDER = `
local function holder_of(h)
  if not h then return 0, '' end
  local a, who = string.match(h, '^(%d+)|(.*)$')
  if not a then return 0, '' end
  return tonumber(a), who
end
`;

const RENEW = new LuaScript(`${LUA_HELPERS}${HOLDER}
if redis.call('TYPE', KEYS[1])['ok'] ~= 'zset' or redis.call('TYPE', KEYS[2])['ok'] ~= 'hash' then return 0 end
local _, who = holder_of(redis.call('HGET', KEYS[2], ARGV[1]))
if who ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local b1 = redis.call('PTTL', KEYS[1])
local b2 = redis.call('PTTL', KEYS[2])
redis.call('ZADD', KEYS[1], 'XX', nowms() + tonumber(ARGV[3]), ARGV[1])
keep(KEYS[1], tonumber(ARGV[4]), b1)
keep(KEYS[2], tonumber(ARGV[4]), b2)
return 1
`);

const RELEASE = new LuaScript(`${HOLDER}
if redis.call('TYPE', KEYS[2])['ok'] ~= 'hash' then return 0 end
local _, who = holder_of(redis.call('HGET', KEYS[2], ARGV[1]))
if who ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('TYPE', KEYS[1])['ok'] == 'zset' then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
`);

const CLAIM = new LuaScript(`${LUA_HELPERS}${HOLDER}
reset(KEYS[1], 'zset')
reset(KEYS[2], 'hash')
local now = nowms()
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local attempt, who = holder_of(redis.call('HGET', KEYS[2], id))
  attempt = attempt + 1
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
  redis.call('HSET', KEYS[2], id, attempt .. '|' .. ARGV[1])
  out[#out + 1] = id
  out[#out + 1] = who
  out[#out + 1] = attempt
end
if #ids > 0 then
  keep(KEYS[1], tonumber(ARGV[4]), redis.call('PTTL', KEYS[1]))
  keep(KEYS[2], tonumber(ARGV[4]), redis.call('PTTL', KEYS[2]))
end
return out
`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A stored request, or `undefined` when what is stored is not one. */
function decodeRequest(text: string | undefined): TaskRunRequest | undefined {
  if (text === undefined) return undefined;
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(r) || typeof r.tool !== 'string' || !isObject(r.arguments)) return undefined;
  if (r.auth !== undefined && !isObject(r.auth)) return undefined;
  return r as unknown as TaskRunRequest;
}

/**
 * {@link TaskLeases} on Redis (see the module docs for the keys). `target` is a `redis://` URL or
 * connection options (the client is made, owned and closed by {@link close}) or a node-redis
 * client you own. Every method rejects when Redis fails.
 */
export class RedisTaskLeases implements TaskLeases {
  readonly #link: CommandLink;
  readonly #queue: string[];
  readonly #tasks: RedisKeys;
  readonly #queueTtlMs: number;

  /**
   * @throws TypeError without a client or URL, or for a bad keyPrefix (with `{` or `}`, or too long)
   * @throws RangeError for an out-of-range numeric option (the message names it)
   */
  constructor(target: RedisTarget, options: RedisTaskLeasesOptions = {}) {
    checkIntegerOption('RedisTaskLeases', 'queueTtlMs', options.queueTtlMs, 1000);
    const leases = new RedisKeys('leases', options.keyPrefix);
    this.#queue = [leases.key('{queue}', 'due'), leases.key('{queue}', 'holders')];
    this.#tasks = new RedisKeys('task', options.keyPrefix);
    this.#queueTtlMs = options.queueTtlMs ?? DEFAULT_LEASE_QUEUE_TTL_MS;
    this.#link = new CommandLink(target, 'RedisTaskLeases');
  }

  #requestKey(taskId: string): string {
    return `${taskKey(this.#tasks, taskId)}:request`;
  }

  /** Takes the lease (attempt 1) and stores the re-run request, if any, before it. */
  async acquire(taskId: string, holder: string, options: TaskLeaseAcquireOptions): Promise<void> {
    const client = await this.#link.client();
    const writes: Promise<unknown>[] = [];
    // The request first, then the lease, back to back on one connection (Redis runs them in order):
    // a claim always finds the request of a lease.
    if (options.request) {
      const px = Math.max(1, Math.min(options.retainMs ?? this.#queueTtlMs, this.#queueTtlMs));
      const json = JSON.stringify(options.request);
      writes.push(client.sendCommand(['SET', this.#requestKey(taskId), json, 'PX', String(px)]));
    }
    writes.push(
      ACQUIRE.run(client, this.#queue, [taskId, holder, String(options.leaseMs), String(this.#queueTtlMs)]),
    );
    await Promise.all(writes);
  }

  /** Extends the lease; `false` once another node claimed it or it was released. */
  async renew(taskId: string, holder: string, leaseMs: number): Promise<boolean> {
    const client = await this.#link.client();
    const r = await RENEW.run(client, this.#queue, [
      taskId,
      holder,
      String(leaseMs),
      String(this.#queueTtlMs),
    ]);
    return Number(r) === 1;
  }

  /** Ends the lease and forgets the stored request; a no-op unless `holder` holds it. */
  async release(taskId: string, holder: string): Promise<void> {
    const client = await this.#link.client();
    if (Number(await RELEASE.run(client, this.#queue, [taskId, holder])) === 1)
      await client.sendCommand(['DEL', this.#requestKey(taskId)]);
  }

  /** Claims up to `limit` expired leases atomically (each goes to exactly one caller). */
  async claimExpired(holder: string, leaseMs: number, limit: number): Promise<TaskLeaseClaim[]> {
    const client = await this.#link.client();
    const flat = asArray(
      await CLAIM.run(client, this.#queue, [
        holder,
        String(leaseMs),
        String(limit),
        String(this.#queueTtlMs),
      ]),
    );
    const claims: TaskLeaseClaim[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      claims.push({
        taskId: asString(flat[i]) ?? '',
        previousHolder: asString(flat[i + 1]) ?? '',
        attempt: Number(flat[i + 2]),
      });
    }
    await Promise.all(
      claims.map(async (c) => {
        try {
          const request = decodeRequest(
            asString(await client.sendCommand(['GET', this.#requestKey(c.taskId)])),
          );
          if (request) c.request = request;
        } catch (error) {
          // Garbage (another type) under the request key reads as no request; an outage rejects
          // (the claims then run out again and are claimed once more).
          if (!isWrongType(error)) throw error;
        }
      }),
    );
    return claims;
  }

  /** Disconnects the client this object made from a URL (a client given to it stays open). */
  close(): Promise<void> {
    return this.#link.close();
  }
}
