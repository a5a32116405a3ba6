/**
 * `RedisTaskStore`: the {@link TaskStore} of both Tasks implementations (the 2026-07-28 extension
 * and the 2025-11-25 tasks) on Redis, so that every node serving one definition answers
 * `tasks/get`, `tasks/cancel`, `tasks/list` and `tasks/result` for a task created on any of them.
 * It keeps the whole TaskStore contract (`test/contracts/task-store.contract.ts`).
 *
 * Key layout (prefix `anywire:` by default):
 * - `anywire:task:{<taskId, escaped>}`: a hash (`v` the version, `s` the status, `r` the record as JSON),
 *   expiring at `createdAt + ttl + maxClockSkewMs` (`PEXPIREAT`; a `ttl: null` task does not expire). The braces are a
 *   Redis Cluster hash tag: the task's other keys (`…:request`, kept by `RedisTaskLeases`) share
 *   its slot, so each per-task script touches one slot.
 * - `anywire:tasks:{index}:seq` (a counter), `anywire:tasks:{index}:all` and
 *   `anywire:tasks:{index}:owner:<sha256 of the owner>` (sorted sets of task ids by creation number,
 *   for `list` and its cursors), `anywire:tasks:{index}:expiry` (task ids by expiry time, for
 *   `sweep`): one slot, each kept at least as
 *   long as the longest-lived task they list.
 *
 * Clock skew: `createdAt` comes from the clock of the node that created the task, and each node
 * judges expiry on its own clock, so every expiry decision (the key's `PEXPIREAT`, `get`, `list`,
 * `update`, `sweep`) waits `maxClockSkewMs` past `createdAt + ttl`. While the nodes' clocks (and
 * Redis's) differ by at most that much, no node sees a task expire before `ttl` has passed, and every
 * node sees it gone by `ttl + 2 × maxClockSkewMs`. A node whose clock runs ahead by more reads tasks
 * as expired up to the excess early (and a creator behind by more makes Redis drop them that much
 * early); a node behind by more keeps reading a task until Redis drops it. Task leases
 * (`RedisTaskLeases`) judge time by Redis `TIME` alone, so skew never fails or re-runs a task whose
 * lease is held.
 *
 * `update` is a compare-and-set on the version, done by a Lua script: the terminal-state guard holds
 * across every node. Anything under these keys that is not what this store wrote (another type,
 * invalid JSON, another task's record) is treated as absent, never a crash.
 * @module
 */
import { createHash } from 'node:crypto';
import type {
  TaskListOptions,
  TaskPage,
  TaskPatch,
  TaskRecord,
  TaskStatus,
  TaskStore,
  TaskUpdateResult,
} from '../protocol/task-store.js';
import { patchableFields, refuseTaskUpdate } from '../protocol/task-store.js';
import { checkIntegerOption } from '../protocol/option-checks.js';
import type { RedisClient } from './connection.js';
import { isWrongType } from './connection.js';
import { RedisKeys } from './keys.js';
import type { RedisTarget } from './task-lua.js';
import { asArray, asString, CommandLink, LUA_HELPERS, LuaScript } from './task-lua.js';

/** Longest task id the store accepts, by default (characters). */
export const DEFAULT_MAX_TASK_ID_CHARS = 256;
/** Largest stored task record (JSON, outcome included), by default: 16 MiB. */
export const DEFAULT_MAX_TASK_RECORD_BYTES = 16 * 1024 * 1024;
/**
 * How far the clocks of the nodes sharing a store (and Redis's) may differ, by default: 2 s, well
 * above what NTP keeps servers within, well below any task ttl worth sharing.
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 2000;

/** Options of {@link RedisTaskStore}. */
export interface RedisTaskStoreOptions {
  /** Prefix of every key (no `{` or `}`). Default `anywire:`. */
  keyPrefix?: string;
  /**
   * Longest task id, in characters (>= 1). A longer id is unknown to `get`/`update`/`delete`, and
   * `create` rejects it with a RangeError. Default {@link DEFAULT_MAX_TASK_ID_CHARS}.
   */
  maxTaskIdChars?: number;
  /**
   * Largest record, in bytes of JSON (>= 1024): `create` and `update` reject a bigger one with a
   * RangeError (the runners report it; the task then fails or expires). Default
   * {@link DEFAULT_MAX_TASK_RECORD_BYTES}.
   */
  maxRecordBytes?: number;
  /**
   * How far the clocks of the nodes sharing the store may differ, in ms (>= 0): a task is treated
   * as expired, and Redis drops it, only this long after `createdAt + ttl` (see the module docs for
   * what holds within and beyond it). Default {@link DEFAULT_MAX_CLOCK_SKEW_MS}; 0 for one node.
   */
  maxClockSkewMs?: number;
  /** This node's clock, in ms since the epoch (tests inject an offset). Default `Date.now`. */
  now?: () => number;
}

/**
 * The key of a task's record, `<prefix>task:{<escaped taskId>}`; the task's other keys append a
 * suffix to it (same hash slot).
 */
export function taskKey(keys: RedisKeys, taskId: string): string {
  return keys.key(RedisKeys.tag(taskId));
}

const STATUSES: ReadonlySet<string> = new Set([
  'working',
  'input_required',
  'completed',
  'failed',
  'cancelled',
]);
/** Index entries of keys kept this long past the task's own expiry (ms). */
const INDEX_SLACK_MS = 60_000;
const SWEEP_BATCH = 100;

const CREATE = new LuaScript(`
local k = KEYS[1]
local t = redis.call('TYPE', k)['ok']
if t == 'hash' then
  local v = redis.call('HGET', k, 'v')
  local r = redis.call('HGET', k, 'r')
  if v and tonumber(v) and r then
    local ok, rec = pcall(cjson.decode, r)
    if ok and type(rec) == 'table' and rec['taskId'] == ARGV[1] then return 0 end
  end
end
if t ~= 'none' then redis.call('DEL', k) end
redis.call('HSET', k, 'v', '1', 's', ARGV[3], 'r', ARGV[2])
if ARGV[4] ~= '' then redis.call('PEXPIREAT', k, ARGV[4]) end
return 1
`);

const INDEX = new LuaScript(`${LUA_HELPERS}
local cur = redis.call('TYPE', KEYS[1])['ok']
if cur ~= 'none' and (cur ~= 'string' or not tonumber(redis.call('GET', KEYS[1]))) then
  redis.call('DEL', KEYS[1])
end
for i = 2, #KEYS do reset(KEYS[i], 'zset') end
local before = {}
for i = 1, #KEYS do before[i] = redis.call('PTTL', KEYS[i]) end
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], 'NX', seq, ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
if #KEYS > 3 then redis.call('ZADD', KEYS[4], 'NX', seq, ARGV[1]) end
local ms = tonumber(ARGV[3])
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then keep(KEYS[i], ms, before[i]) end
end
return seq
`);

const CAS = new LuaScript(`
local k = KEYS[1]
if redis.call('TYPE', k)['ok'] ~= 'hash' then return 0 end
if redis.call('HGET', k, 'v') ~= ARGV[1] then return 2 end
redis.call('HSET', k, 'v', tostring(tonumber(ARGV[1]) + 1), 's', ARGV[3], 'r', ARGV[2])
if ARGV[4] == 'persist' then redis.call('PERSIST', k)
elseif ARGV[4] ~= '' then redis.call('PEXPIREAT', k, ARGV[4]) end
return 1
`);

const RANGE = new LuaScript(`
if redis.call('TYPE', KEYS[1])['ok'] ~= 'zset' then return {} end
return redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
`);

const UNINDEX = new LuaScript(`
for i = 1, #KEYS do
  if redis.call('TYPE', KEYS[i])['ok'] == 'zset' then redis.call('ZREM', KEYS[i], ARGV[1]) end
end
return 1
`);

const READ_SEQ = new LuaScript(`
if redis.call('TYPE', KEYS[1])['ok'] ~= 'string' then return 0 end
return tonumber(redis.call('GET', KEYS[1])) or 0
`);

/** When `t` expires for this store: `createdAt + ttl + skewMs` (ms since the epoch), `undefined` never. */
function expiresAt(t: Pick<TaskRecord, 'createdAt' | 'ttl'>, skewMs: number): number | undefined {
  if (t.ttl === null) return undefined;
  const created = Date.parse(t.createdAt);
  return Number.isFinite(created) ? created + t.ttl + skewMs : 0;
}

/** A stored record, or `undefined` when what is stored is not one (garbage reads as absent). */
function decode(taskId: string, version: unknown, json: unknown): TaskRecord | undefined {
  const v = Number(asString(version));
  const text = asString(json);
  if (!Number.isSafeInteger(v) || v < 1 || text === undefined) return undefined;
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return undefined;
  const t = r as Record<string, unknown>;
  if (
    t.taskId !== taskId ||
    typeof t.status !== 'string' ||
    !STATUSES.has(t.status) ||
    typeof t.createdAt !== 'string' ||
    typeof t.lastUpdatedAt !== 'string' ||
    !(t.ttl === null || (typeof t.ttl === 'number' && Number.isFinite(t.ttl))) ||
    (t.owner !== undefined && typeof t.owner !== 'string')
  )
    return undefined;
  return { ...(t as unknown as TaskRecord), version: v };
}

/**
 * A {@link TaskStore} on Redis (7 or later; Cluster-ready key design, see the module docs).
 *
 * `new RedisTaskStore(target, options)`: `target` is a `redis://` URL or connection options (the
 * store makes, owns and {@link close}s its client; the first command waits up to `connectTimeoutMs`
 * for the connection) or a node-redis client you own (shared with other stores; never closed here).
 * Every method rejects when Redis fails (the Tasks extensions answer the request -32603 and report
 * background failures to the server's `onerror`).
 */
export class RedisTaskStore implements TaskStore {
  readonly #link: CommandLink;
  readonly #keys: RedisKeys;
  readonly #index: RedisKeys;
  readonly #maxIdChars: number;
  readonly #maxRecordBytes: number;
  readonly #skewMs: number;
  readonly #now: () => number;

  /**
   * @throws TypeError without a client or URL, or for a bad keyPrefix (with `{` or `}`, or too long)
   * @throws RangeError for an out-of-range numeric option (the message names it)
   */
  constructor(target: RedisTarget, options: RedisTaskStoreOptions = {}) {
    checkIntegerOption('RedisTaskStore', 'maxTaskIdChars', options.maxTaskIdChars, 1);
    checkIntegerOption('RedisTaskStore', 'maxRecordBytes', options.maxRecordBytes, 1024);
    checkIntegerOption('RedisTaskStore', 'maxClockSkewMs', options.maxClockSkewMs, 0);
    if (options.now !== undefined && typeof options.now !== 'function')
      throw new TypeError('RedisTaskStore: now must be a function returning ms since the epoch');
    this.#skewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    this.#now = options.now ?? Date.now;
    this.#keys = new RedisKeys('task', options.keyPrefix);
    this.#index = new RedisKeys('tasks', options.keyPrefix);
    this.#maxIdChars = options.maxTaskIdChars ?? DEFAULT_MAX_TASK_ID_CHARS;
    this.#maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_TASK_RECORD_BYTES;
    this.#link = new CommandLink(target, 'RedisTaskStore');
  }

  #key(taskId: string): string {
    return taskKey(this.#keys, taskId);
  }
  #expiresAt(t: Pick<TaskRecord, 'createdAt' | 'ttl'>): number | undefined {
    return expiresAt(t, this.#skewMs);
  }
  #expired(t: TaskRecord, now: number): boolean {
    const at = this.#expiresAt(t);
    return at !== undefined && at <= now;
  }
  #indexKey(name: 'seq' | 'all' | 'expiry'): string {
    return this.#index.key('{index}', name);
  }
  #ownerIndex(owner: string): string {
    return this.#index.key('{index}', 'owner', createHash('sha256').update(owner).digest('hex'));
  }
  #indexKeys(owner: string | undefined): string[] {
    const keys = [this.#indexKey('seq'), this.#indexKey('all'), this.#indexKey('expiry')];
    if (owner !== undefined) keys.push(this.#ownerIndex(owner));
    return keys;
  }

  #encode(record: TaskRecord): string {
    const { version: _v, ...rest } = record;
    const json = JSON.stringify(rest);
    if (Buffer.byteLength(json) > this.#maxRecordBytes)
      throw new RangeError(
        `anywire: task ${record.taskId} is ${Buffer.byteLength(json)} bytes of JSON, more than maxRecordBytes (${this.#maxRecordBytes})`,
      );
    return json;
  }

  async #read(taskId: string): Promise<TaskRecord | undefined> {
    if (typeof taskId !== 'string' || taskId.length > this.#maxIdChars) return undefined;
    const client = await this.#link.client();
    let reply: unknown;
    try {
      reply = await client.sendCommand(['HMGET', this.#key(taskId), 'v', 'r']);
    } catch (error) {
      if (isWrongType(error)) return undefined;
      throw error;
    }
    const [v, r] = asArray(reply);
    return decode(taskId, v, r);
  }

  /**
   * Stores a new task at version 1, expiring at `createdAt + ttl + maxClockSkewMs`.
   * @throws Error when a task with this id exists; RangeError for an id or record over the limits
   */
  async create(record: TaskRecord): Promise<void> {
    const id = record.taskId;
    if (typeof id !== 'string' || id.length === 0 || id.length > this.#maxIdChars)
      throw new RangeError(`anywire: a task id must be 1..${this.#maxIdChars} characters`);
    const json = this.#encode({ ...record, version: 1 });
    const at = this.#expiresAt(record);
    const client = await this.#link.client();
    // Index, then record, sent back to back on one connection (one round trip; Redis runs them in
    // order): an index entry whose record is missing reads as absent and is pruned, so a task that
    // exists is always listed.
    const keepMs = at === undefined ? -1 : Math.max(1, at - this.#now()) + INDEX_SLACK_MS;
    const [, created] = await Promise.all([
      INDEX.run(client, this.#indexKeys(record.owner), [
        id,
        at === undefined ? '' : String(at),
        String(keepMs),
      ]),
      CREATE.run(client, [this.#key(id)], [id, json, record.status, at === undefined ? '' : String(at)]),
    ]);
    if (Number(created) !== 1) throw new Error(`anywire: task ${id} already exists`);
  }

  /** The task, or `undefined` when unknown, expired or unreadable. */
  async get(taskId: string): Promise<TaskRecord | undefined> {
    const t = await this.#read(taskId);
    return t && !this.#expired(t, this.#now()) ? t : undefined;
  }

  /**
   * Compare-and-set update (see {@link TaskStore}): an atomic check of the version read, so the
   * first terminal state wins across nodes. Retries while other writers move the version on.
   * @throws RangeError when the updated record is over `maxRecordBytes`
   */
  async update(
    taskId: string,
    patch: TaskPatch,
    options: { ifVersion?: number } = {},
  ): Promise<TaskUpdateResult> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const t = await this.get(taskId);
      const refused = refuseTaskUpdate(t, options.ifVersion);
      if (refused || !t) return refused!;
      const allowed = patchableFields(patch);
      const next: TaskRecord = { ...t, ...structuredClone(allowed) };
      for (const [k, v] of Object.entries(allowed)) if (v === undefined) delete (next as never)[k];
      next.lastUpdatedAt = new Date(this.#now()).toISOString();
      next.version = t.version! + 1;
      const ttlChanged = 'ttl' in allowed && allowed.ttl !== undefined && allowed.ttl !== t.ttl;
      const at = this.#expiresAt(next);
      const ttlMode = !ttlChanged ? '' : at === undefined ? 'persist' : String(at);
      const client = await this.#link.client();
      const done = Number(
        await CAS.run(
          client,
          [this.#key(taskId)],
          [String(t.version), this.#encode(next), next.status as TaskStatus, ttlMode],
        ),
      );
      if (done === 0) return { ok: false, reason: 'missing' };
      if (done === 1) {
        if (ttlChanged) {
          const keepMs = at === undefined ? -1 : Math.max(1, at - this.#now()) + INDEX_SLACK_MS;
          await INDEX.run(client, this.#indexKeys(t.owner), [
            taskId,
            at === undefined ? '' : String(at),
            String(keepMs),
          ]);
        }
        return { ok: true, record: next };
      }
      // 2: another writer moved the version on since the read; read again.
    }
    throw new Error(`anywire: task ${taskId} kept changing under update; gave up after 1000 attempts`);
  }

  /**
   * One page of tasks in creation order (the cursor is the creation number of the last task
   * returned).
   * @throws RangeError for a cursor this store did not issue
   */
  async list(options: TaskListOptions): Promise<TaskPage> {
    const client = await this.#link.client();
    let after = 0;
    if (options.cursor !== undefined) {
      after = /^\d{1,15}$/.test(options.cursor) ? Number(options.cursor) : Number.NaN;
      if (
        !Number.isSafeInteger(after) ||
        after > Number(await READ_SEQ.run(client, [this.#indexKey('seq')], []))
      )
        throw new RangeError('anywire: invalid task cursor');
    }
    const limit = Math.max(1, Math.floor(options.limit));
    const index = options.owner === undefined ? this.#indexKey('all') : this.#ownerIndex(options.owner);
    const now = this.#now();
    const tasks: TaskRecord[] = [];
    let last = after;
    let lastReturned = after;
    for (;;) {
      const batch = Math.min(Math.max(limit + 1 - tasks.length, 10), 500);
      const flat = asArray(await RANGE.run(client, [index], [`(${last}`, '+inf', String(batch)]));
      const ids: string[] = [];
      const seqs: number[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        ids.push(asString(flat[i]) ?? '');
        seqs.push(Number(asString(flat[i + 1])));
      }
      const records = await Promise.all(ids.map((id) => this.#read(id).catch(() => undefined)));
      for (let i = 0; i < ids.length; i++) {
        last = seqs[i]!;
        const t = records[i];
        if (!t || this.#expired(t, now)) {
          void this.#unindex(client, ids[i]!, t?.owner ?? options.owner).catch(() => {});
          continue;
        }
        if (options.owner !== undefined && t.owner !== options.owner) continue;
        if (tasks.length === limit) return { tasks, nextCursor: String(lastReturned) };
        tasks.push(t);
        lastReturned = seqs[i]!;
      }
      if (ids.length < batch) return { tasks };
    }
  }

  #unindex(client: RedisClient, taskId: string, owner: string | undefined): Promise<unknown> {
    const keys = [this.#indexKey('all'), this.#indexKey('expiry')];
    if (owner !== undefined) keys.push(this.#ownerIndex(owner));
    return UNINDEX.run(client, keys, [taskId]);
  }

  /** Forgets a task (its record, its stored run request and its index entries). Idempotent. */
  async delete(taskId: string): Promise<void> {
    if (typeof taskId !== 'string' || taskId.length > this.#maxIdChars) return;
    const t = await this.#read(taskId);
    const client = await this.#link.client();
    await client.sendCommand(['DEL', this.#key(taskId), `${this.#key(taskId)}:request`]);
    await this.#unindex(client, taskId, t?.owner);
  }

  /**
   * Deletes the tasks whose `createdAt + ttl + maxClockSkewMs` is at or before `now` (this node's
   * clock by default; Redis expires records by
   * itself, so this mostly prunes their index entries); resolves to how many records it deleted.
   * Safe to run on every node at once.
   */
  async sweep(now = this.#now()): Promise<number> {
    const client = await this.#link.client();
    let deleted = 0;
    let from = '-inf';
    for (;;) {
      const flat = asArray(
        await RANGE.run(client, [this.#indexKey('expiry')], [from, String(now), String(SWEEP_BATCH)]),
      );
      const ids: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) ids.push(asString(flat[i]) ?? '');
      for (const id of ids) {
        const t = await this.#read(id);
        if (t && !this.#expired(t, now)) continue; // its ttl was moved on; the index was updated with it
        if (t) {
          const gone = Number(await client.sendCommand(['DEL', this.#key(id), `${this.#key(id)}:request`]));
          if (gone > 0) deleted++;
        }
        await this.#unindex(client, id, t?.owner);
      }
      if (ids.length < SWEEP_BATCH) return deleted;
      from = `(${asString(flat[flat.length - 1])}`;
    }
  }

  /** Disconnects the client this store made from a URL (a client given to it stays open). */
  close(): Promise<void> {
    return this.#link.close();
  }
}
