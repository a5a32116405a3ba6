/**
 * The running side of a shared legacy session's POST streams: while this process runs the requests
 * of a POST stream, it holds a lease (renewed every third of `streamOwnerLeaseMs`) and a record of
 * the stream's request ids, so a process where the client resumes the stream relays what this one
 * stores and answers with an error once this one is dead (2025-11-25 basic/transports
 * "Resumability and Redelivery"). A stream whose client connection is gone wakes the session's
 * channel after each message it stores, for the process relaying it.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage } from '../../jsonrpc/types.js';
import type { PostStreamRegistry } from '../../protocol/post-streams.js';
import { randomHex } from '../../protocol/random-hex.js';
import type { SessionRouter } from '../../protocol/session-store.js';
import type { SseStream } from './sse-stream.js';

/** The JSON-RPC ids of the requests in a POSTed message or batch, as the client sent them. */
export function requestIdsOf(message: JsonRpcMessage | JsonRpcMessage[]): (string | number)[] {
  const ids: (string | number)[] = [];
  for (const m of Array.isArray(message) ? message : [message]) {
    const id = 'method' in m && 'id' in m ? (m.id as JsonRpcId) : null;
    if (typeof id === 'string' || typeof id === 'number') ids.push(id);
  }
  return ids;
}

/** This process's POST streams in a shared session store, and its lease. */
export class PostStreamOwner {
  /** This process's owner tag (one per HTTP handler). */
  readonly tag = randomHex(8);
  #registry: PostStreamRegistry;
  #router: SessionRouter | undefined;
  #leaseMs: number;
  #recordTtlMs: number;
  #report: (error: unknown) => void;
  #open = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #held: Promise<void> | undefined;
  #closed = false;

  /**
   * @param leaseMs the lease's time to live (`streamOwnerLeaseMs`); renewed every `leaseMs / 3`
   * @param recordTtlMs how long a stream's record lives (the session idle timeout)
   */
  constructor(
    registry: PostStreamRegistry,
    router: SessionRouter | undefined,
    leaseMs: number,
    recordTtlMs: number,
    report: (error: unknown) => void,
  ) {
    this.#registry = registry;
    this.#router = router;
    this.#leaseMs = Math.ceil(leaseMs);
    this.#recordTtlMs = Math.ceil(recordTtlMs);
    this.#report = report;
  }

  /** POST streams running here right now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Records `stream` (of `sessionId`, answering `requestIds`) as running here before its first
   * event id leaves. Returns what to call when it ends; `answered()` tells whether every response
   * (or the abandonment of a cancelled request) was handed to it, after which its record goes.
   */
  own(
    sessionId: string,
    stream: SseStream,
    requestIds: (string | number)[],
    answered: () => boolean,
  ): () => void {
    this.#open++;
    const held = this.#hold();
    const record = { owner: this.tag, requestIds };
    stream.hold(
      held
        .then(() => this.#registry.putStream(sessionId, stream.id, record, this.#recordTtlMs))
        .catch((e: unknown) => this.#report(e)),
    );
    stream.onstored = () => {
      // Nobody reads this stream here: a process relaying it is woken.
      if (!stream.connected)
        this.#router?.publish(sessionId, { type: 'wake' }).catch((e: unknown) => this.#report(e));
    };
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.#open === 0) this.#stop();
      // Unanswered (this process is closing): the record stays, the lease lapses, a relay answers.
      if (answered())
        this.#registry.deleteStream(sessionId, stream.id).catch((e: unknown) => this.#report(e));
    };
  }

  /** Stops renewing the lease and releases it (the process is closing). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stop();
    await this.#registry.releaseLease(this.tag).catch((e: unknown) => this.#report(e));
  }

  /** The lease, held from now while streams run here; resolves once first written. */
  #hold(): Promise<void> {
    if (this.#timer === undefined && !this.#closed) {
      const renew = () => this.#registry.renewLease(this.tag, this.#leaseMs);
      this.#held = renew().catch((e: unknown) => this.#report(e));
      this.#timer = setInterval(
        () => void renew().catch((e: unknown) => this.#report(e)),
        Math.max(1, Math.floor(this.#leaseMs / 3)),
      );
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return this.#held ?? Promise.resolve();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
