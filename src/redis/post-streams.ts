/**
 * The POST stream records and process leases of shared legacy sessions on Redis
 * (`RedisSessionStore.postStreams`, see {@link PostStreamRegistry}).
 *
 * Keys (every one with a TTL; wire parts escaped):
 * - `<prefix>session:{<session id>}:post:<stream id>`: the JSON of a {@link PostStreamRecord}, its
 *   TTL the session idle timeout; in the session's hash slot (`{<session id>}`), beside its record.
 * - `<prefix>session:owner:{<owner tag>}`: a process's lease (value `1`), its TTL the binding's
 *   `streamOwnerLeaseMs`, renewed by the process while it runs POST streams.
 * @module
 */
import { checkLeaseTtlMs, parsePostStreamRecord } from '../protocol/post-streams.js';
import type { PostStreamRecord, PostStreamRegistry } from '../protocol/post-streams.js';
import type { RedisClient } from './connection.js';
import { isWrongType } from './connection.js';
import { escapeKeyPart, RedisKeys } from './keys.js';

/** Runs one operation on the store's client, turning a failure into a clear error. */
export type RedisRun = <T>(op: string, fn: (client: RedisClient) => Promise<T>) => Promise<T>;

/** A {@link PostStreamRegistry} on the session store's Redis client and key prefix. */
export class RedisPostStreamRegistry implements PostStreamRegistry {
  #run: RedisRun;
  #keys: RedisKeys;

  /** @param keys the session store's keys (`<prefix>session:...`) */
  constructor(run: RedisRun, keys: RedisKeys) {
    this.#run = run;
    this.#keys = keys;
  }

  /** The key of a process's lease. */
  leaseKey(owner: string): string {
    return this.#keys.key('owner', RedisKeys.tag(owner));
  }

  /** The key of a POST stream's record. */
  streamKey(sessionId: string, streamId: string): string {
    return this.#keys.key(RedisKeys.tag(sessionId), 'post', escapeKeyPart(streamId));
  }

  async renewLease(owner: string, ttlMs: number): Promise<void> {
    checkLeaseTtlMs(ttlMs);
    await this.#run('lease renewal', (c) => c.set(this.leaseKey(owner), '1', { PX: ttlMs }));
  }

  async leaseHeld(owner: string): Promise<boolean> {
    return (await this.#run('lease check', (c) => c.exists(this.leaseKey(owner)))) === 1;
  }

  async releaseLease(owner: string): Promise<void> {
    await this.#run('lease release', (c) => c.del(this.leaseKey(owner)));
  }

  async putStream(
    sessionId: string,
    streamId: string,
    record: PostStreamRecord,
    ttlMs: number,
  ): Promise<void> {
    checkLeaseTtlMs(ttlMs);
    const json = JSON.stringify({ owner: record.owner, requestIds: record.requestIds });
    await this.#run('post stream write', (c) =>
      c.set(this.streamKey(sessionId, streamId), json, { PX: ttlMs }),
    );
  }

  async getStream(sessionId: string, streamId: string): Promise<PostStreamRecord | undefined> {
    const key = this.streamKey(sessionId, streamId);
    // Another type under the key is garbage: read as absent.
    const text = await this.#run('post stream read', (c) =>
      c.get(key).catch((error: unknown) => {
        if (isWrongType(error)) return null;
        throw error;
      }),
    );
    return parsePostStreamRecord(text);
  }

  async deleteStream(sessionId: string, streamId: string): Promise<void> {
    await this.#run('post stream delete', (c) => c.del(this.streamKey(sessionId, streamId)));
  }
}
