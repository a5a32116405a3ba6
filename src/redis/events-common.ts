/**
 * Shared parts of the Redis stores of the Events extension: the client type, key naming (prefix,
 * escaped parts, hash tags), Lua scripts run by SHA with a fallback, and readers of raw replies
 * that treat anything unexpected as absent. Node-only.
 * @module
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';
import { escapeKeyPart } from './keys.js';

/** A node-redis client (connected by its owner): {@link RedisClient}. */
export type EventsRedisClient = RedisClient;

/** Options every Events Redis store takes. */
export interface EventsRedisOptions {
  /** Prefix of every key. Default `anywire:`; no `{` or `}` (they would move keys between Cluster slots). */
  keyPrefix?: string;
}

/**
 * Checks and returns the key prefix.
 * @throws TypeError for a prefix with `{` or `}` or over 128 characters
 */
export function keyPrefixOf(options: EventsRedisOptions): string {
  const prefix = options.keyPrefix ?? 'anywire:';
  if (typeof prefix !== 'string' || prefix.length > 128 || /[{}]/.test(prefix))
    throw new TypeError(`anywire/redis: keyPrefix must be a string of at most 128 characters without { or }`);
  return prefix;
}

/** Escapes a key part from the wire (`escapeKeyPart`): `{`, `}`, `:` and `%` never appear raw. */
export const esc = escapeKeyPart;

/** A hash tag of an escaped part: keys with the same tag share a Redis Cluster slot. */
export const tag = (part: string): string => `{${esc(part)}}`;

/** A Lua script with its SHA-1 (EVALSHA first, EVAL when Redis does not know it yet). */
export interface Script {
  src: string;
  sha: string;
}

/** Makes a {@link Script}. */
export function script(src: string): Script {
  return { src, sha: createHash('sha1').update(src).digest('hex') };
}

/** Runs a script (EVALSHA, then EVAL on NOSCRIPT). */
export async function run<T>(
  client: EventsRedisClient,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<T> {
  const rest = [String(keys.length), ...keys, ...args.map(String)];
  try {
    return (await client.sendCommand(['EVALSHA', s.sha, ...rest])) as T;
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return (await client.sendCommand(['EVAL', s.src, ...rest])) as T;
  }
}

/** Whether an error is Redis saying a key holds another type (garbage under our key). */
export const isWrongType = (error: unknown): boolean =>
  String((error as Error)?.message).startsWith('WRONGTYPE');

/** A Lua line that deletes KEYS[i] unless it is absent or of `type` (garbage reads as absent). */
export const dropUnless = (i: number, type: string): string =>
  `do local t = redis.call('TYPE', KEYS[${i}])['ok'] if t ~= '${type}' and t ~= 'none' then redis.call('DEL', KEYS[${i}]) end end`;

/** The field/value pairs of a hash reply (RESP2 array or RESP3 map); `{}` for anything else. */
export function hashOf(reply: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  } else if (reply instanceof Map) {
    for (const [k, v] of reply) out[String(k)] = String(v);
  } else if (reply && typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply)) out[k] = String(v);
  }
  return out;
}

/** Stream entries of an XRANGE-like reply as `[id, fields]`; malformed entries are skipped. */
export function entriesOf(reply: unknown): [string, Record<string, string>][] {
  const out: [string, Record<string, string>][] = [];
  if (!Array.isArray(reply)) return out;
  for (const e of reply) {
    if (!Array.isArray(e) || (typeof e[0] !== 'string' && !Buffer.isBuffer(e[0]))) continue;
    out.push([String(e[0]), hashOf(e[1])]);
  }
  return out;
}

/** Parses JSON, `undefined` when it is not. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A stream id `ms-seq` as a comparable pair; `undefined` when malformed. */
export function streamId(id: unknown): [bigint, bigint] | undefined {
  const m = typeof id === 'string' ? /^(\d{1,20})-(\d{1,20})$/.exec(id) : null;
  return m ? [BigInt(m[1]!), BigInt(m[2]!)] : undefined;
}

/** Compares two parsed stream ids. */
export function compareIds(a: [bigint, bigint], b: [bigint, bigint]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** Checks a positive integer option. @throws RangeError naming it */
export function positiveInteger(
  owner: string,
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new RangeError(`anywire/redis: ${owner} ${name} must be a positive integer, got ${v}`);
  return v;
}
