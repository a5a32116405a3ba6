/**
 * The webhook subscriptions of the Events extension on Redis ({@link WebhookSubscriptionStore}):
 * - `<prefix>events:sub:{<name>}:<id>`: a hash per subscription (`r` the record as JSON, `a`
 *   active, `f` failures, `e` lastError, `d` lastDeliveryAt, `s` failedSince), expiring at the
 *   subscription's `expiresAt` (`PEXPIREAT`);
 * - `<prefix>events:subs:{<name>}`: a sorted set of the name's subscription ids scored by
 *   `expiresAt` (same slot as the hashes: written together by one script), expiring with its
 *   latest member;
 * - `<prefix>events:subs-all`: every subscription scored by `expiresAt`, for `count()`;
 * - `<prefix>events:verified:<sha256(principal, url)>`: a verified endpoint, for its TTL.
 * Delivery outcomes update the hash atomically (a script) and never recreate a deleted one.
 * Garbage under these keys reads as absent and is replaced on write. Node-only.
 * @module
 */
import { createHash } from 'node:crypto';
import type {
  StoredWebhookSubscription,
  WebhookDeliveryOutcome,
  WebhookSubscriptionStore,
} from '../events/stores.js';
import type { DeliveryErrorCategory } from '../webhooks/types.js';
import type { EventsRedisClient, EventsRedisOptions } from './events-common.js';
import {
  dropUnless,
  esc,
  hashOf,
  isWrongType,
  keyPrefixOf,
  parseJson,
  run,
  script,
  tag,
} from './events-common.js';

/** Options of {@link RedisWebhookSubscriptionStore}. */
export type RedisWebhookSubscriptionStoreOptions = EventsRedisOptions;

// KEYS: hash, name index. ARGV: record JSON, active, failures, lastError, lastDeliveryAt, failedSince, expiresAt ms, id.
const PUT = script(`redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'r', ARGV[1], 'a', ARGV[2], 'f', ARGV[3], 'e', ARGV[4], 'd', ARGV[5], 's', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
${dropUnless(2, 'zset')}
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[8])
local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], top[2])
return 1`);

// KEYS: the all-index. ARGV: member, expiresAt ms, now ms.
const INDEX = script(`${dropUnless(1, 'zset')}
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then redis.call('PEXPIREAT', KEYS[1], top[2]) end
return 1`);

// KEYS: hash. ARGV: 'ok' | 'fail', at, reason, suspendAfterFailures.
const RECORD =
  script(`if redis.call('TYPE', KEYS[1])['ok'] ~= 'hash' or redis.call('HEXISTS', KEYS[1], 'r') == 0 then return 0 end
if ARGV[1] == 'ok' then
  redis.call('HSET', KEYS[1], 'd', ARGV[2], 'e', '', 'f', '0')
  redis.call('HDEL', KEYS[1], 's')
else
  redis.call('HSET', KEYS[1], 'e', ARGV[3])
  local since = redis.call('HGET', KEYS[1], 's')
  if not since or since == '' then redis.call('HSET', KEYS[1], 's', ARGV[2]) end
  local f = tonumber(redis.call('HGET', KEYS[1], 'f')) or 0
  f = f + 1
  redis.call('HSET', KEYS[1], 'f', tostring(f))
  if f >= tonumber(ARGV[4]) then redis.call('HSET', KEYS[1], 'a', '0') end
end
return 1`);

const CATEGORIES = new Set<string>([
  'connection_refused',
  'timeout',
  'tls_error',
  'http_4xx',
  'http_5xx',
  'challenge_failed',
]);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The record from a hash; undefined for garbage, another name or id, or an expired record. */
function fromHash(
  h: Record<string, string>,
  name: string,
  id: string,
): StoredWebhookSubscription | undefined {
  const r = parseJson(h.r);
  if (!isObject(r) || r.id !== id || r.name !== name) return undefined;
  if (typeof r.principal !== 'string' || typeof r.url !== 'string' || typeof r.secret !== 'string')
    return undefined;
  if (!isObject(r.args) || typeof r.expiresAt !== 'number' || r.expiresAt <= Date.now()) return undefined;
  const s: StoredWebhookSubscription = {
    id,
    name,
    principal: r.principal,
    url: r.url,
    args: r.args as StoredWebhookSubscription['args'],
    secret: r.secret,
    expiresAt: r.expiresAt,
    active: h.a !== '0',
    failures: Number.parseInt(h.f ?? '0', 10) || 0,
    lastError: CATEGORIES.has(h.e ?? '') ? (h.e as DeliveryErrorCategory) : null,
  };
  if (typeof r.previousSecret === 'string' && typeof r.previousSecretUntil === 'number') {
    s.previousSecret = r.previousSecret;
    s.previousSecretUntil = r.previousSecretUntil;
  }
  if (h.d) s.lastDeliveryAt = h.d;
  if (h.s) s.failedSince = h.s;
  return s;
}

/** The Redis {@link WebhookSubscriptionStore}. See the module docs; the contract is the interface's. */
export class RedisWebhookSubscriptionStore implements WebhookSubscriptionStore {
  readonly #client: EventsRedisClient;
  readonly #prefix: string;

  /**
   * @param client a connected node-redis client (the caller owns it)
   * @throws TypeError for a bad `keyPrefix`
   */
  constructor(client: EventsRedisClient, options: RedisWebhookSubscriptionStoreOptions = {}) {
    this.#client = client;
    this.#prefix = keyPrefixOf(options);
  }

  #hash(name: string, id: string): string {
    return `${this.#prefix}events:sub:${tag(name)}:${esc(id)}`;
  }

  #index(name: string): string {
    return `${this.#prefix}events:subs:${tag(name)}`;
  }

  get #all(): string {
    return `${this.#prefix}events:subs-all`;
  }

  #verified(principal: string, url: string): string {
    const h = createHash('sha256').update(principal).update('\n').update(url).digest('hex');
    return `${this.#prefix}events:verified:${h}`;
  }

  async #read(name: string, id: string): Promise<StoredWebhookSubscription | undefined> {
    try {
      return fromHash(hashOf(await this.#client.sendCommand(['HGETALL', this.#hash(name, id)])), name, id);
    } catch (error) {
      if (isWrongType(error)) return undefined;
      throw error;
    }
  }

  async get(name: string, id: string, principal?: string): Promise<StoredWebhookSubscription | undefined> {
    const s = await this.#read(name, id);
    return s && (principal === undefined || s.principal === principal) ? s : undefined;
  }

  async put(s: StoredWebhookSubscription): Promise<void> {
    const record: Record<string, unknown> = {
      id: s.id,
      name: s.name,
      principal: s.principal,
      url: s.url,
      args: s.args,
      secret: s.secret,
      expiresAt: s.expiresAt,
    };
    if (s.previousSecret !== undefined) {
      record.previousSecret = s.previousSecret;
      record.previousSecretUntil = s.previousSecretUntil;
    }
    const expires = String(Math.floor(s.expiresAt));
    await run(
      this.#client,
      PUT,
      [this.#hash(s.name, s.id), this.#index(s.name)],
      [
        JSON.stringify(record),
        s.active ? '1' : '0',
        String(s.failures),
        s.lastError ?? '',
        s.lastDeliveryAt ?? '',
        s.failedSince ?? '',
        expires,
        s.id,
      ],
    );
    await run(this.#client, INDEX, [this.#all], [`${esc(s.name)}:${esc(s.id)}`, expires, String(Date.now())]);
  }

  async list(name: string): Promise<StoredWebhookSubscription[]> {
    let ids: unknown;
    try {
      ids = await this.#client.sendCommand([
        'ZRANGE',
        this.#index(name),
        String(Date.now()),
        '+inf',
        'BYSCORE',
      ]);
    } catch (error) {
      if (isWrongType(error)) return [];
      throw error;
    }
    if (!Array.isArray(ids)) return [];
    const subs = await Promise.all(ids.map((id) => this.#read(name, String(id))));
    return subs.filter((s): s is StoredWebhookSubscription => s !== undefined);
  }

  async delete(name: string, id: string, principal?: string): Promise<boolean> {
    const s = await this.get(name, id, principal);
    if (!s) return false;
    await Promise.all([
      this.#client.sendCommand(['DEL', this.#hash(name, id)]),
      this.#client.sendCommand(['ZREM', this.#index(name), id]).catch(() => 0),
      this.#client.sendCommand(['ZREM', this.#all, `${esc(name)}:${esc(id)}`]).catch(() => 0),
    ]);
    return true;
  }

  async count(): Promise<number> {
    try {
      await this.#client.sendCommand(['ZREMRANGEBYSCORE', this.#all, '-inf', String(Date.now())]);
      return Number(await this.#client.sendCommand(['ZCARD', this.#all])) || 0;
    } catch (error) {
      if (isWrongType(error)) return 0;
      throw error;
    }
  }

  async recordDelivery(name: string, id: string, outcome: WebhookDeliveryOutcome): Promise<void> {
    await run(
      this.#client,
      RECORD,
      [this.#hash(name, id)],
      outcome.ok
        ? ['ok', outcome.at, '', '0']
        : ['fail', outcome.at, outcome.reason, String(outcome.suspendAfterFailures)],
    );
  }

  async markVerified(principal: string, url: string, ttlMs: number): Promise<void> {
    await this.#client.sendCommand([
      'SET',
      this.#verified(principal, url),
      '1',
      'PX',
      String(Math.max(1, Math.floor(ttlMs))),
    ]);
  }

  async isVerified(principal: string, url: string): Promise<boolean> {
    return Number(await this.#client.sendCommand(['EXISTS', this.#verified(principal, url)])) === 1;
  }
}
