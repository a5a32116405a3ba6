/**
 * Lua scripts run by SHA (EVALSHA), loaded on first use and again after a Redis restart (NOSCRIPT).
 * Each script declares every key it touches (KEYS), all in one Redis Cluster slot.
 * @module
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';
import { connected } from './connection.js';

/** A Lua script and its SHA-1. */
export class RedisScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script (EVALSHA, then EVAL when Redis does not know it yet).
   * @throws the node-redis error of the command (a script error, WRONGTYPE, offline, timeout)
   */
  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    await connected(client);
    try {
      return await client.evalSha(this.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !/NOSCRIPT/.test(error.message)) throw error;
      return await client.eval(this.source, options);
    }
  }
}
