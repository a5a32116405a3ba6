/**
 * The client side's ordered outbox. While the broker connection is down (or the reply topic is not
 * yet re-subscribed) messages wait here, in order, up to a bound. A publish the broker acknowledged
 * with reason code 16 "No matching subscribers" (MQTT 5 section 3.4.2.1) reached no server, so it
 * can be re-published without risk of running twice: the outbox holds later messages back and
 * re-publishes with backoff until `noSubscriberRetryMs` has passed, then rejects. This covers a
 * server that is re-subscribing after a broker restart, and fails fast when no server runs at all.
 * @module
 */
import { McpError } from '../../protocol/errors.js';

/** What a publish came to. */
export type PublishOutcome = 'delivered' | 'no-subscribers';

/** One queued publish. */
export interface OutboxEntry<P> {
  readonly payload: P;
  /** First time a broker said nobody subscribed (ms since the epoch). */
  firstMissAt?: number;
  resolve(): void;
  reject(error: Error): void;
}

/** Options of {@link Outbox}. */
export interface OutboxOptions<P> {
  /** Publishes one entry; resolves with the broker's verdict, rejects on a publish error. */
  publish(payload: P): Promise<PublishOutcome>;
  /** Most messages held while offline or waiting for a server; more are rejected. */
  maxQueuedMessages: number;
  /** How long in ms a message that reached no subscriber is re-published before it is rejected; 0 = at once. */
  noSubscriberRetryMs: number;
  /** The topic published to, for error messages. */
  topic: string;
}

/** First and largest re-publish delays in ms. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

/** An ordered, bounded queue in front of the broker connection. */
export class Outbox<P> {
  #o: OutboxOptions<P>;
  #ready = false;
  #holding = false;
  #queue: OutboxEntry<P>[] = [];
  #redo: OutboxEntry<P>[] = [];
  #round = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed: Error | undefined;

  constructor(options: OutboxOptions<P>) {
    this.#o = options;
  }

  /** Messages waiting (offline or held back). */
  get queued(): number {
    return this.#queue.length + this.#redo.length;
  }

  /**
   * Publishes now when connected and nothing is held back; otherwise queues.
   * @throws McpError `NOT_CONNECTED` when the queue is full or no server subscribed in time;
   *   `CONNECTION_CLOSED` after `close()`; the publish error otherwise
   */
  send(payload: P): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<void>((resolve, reject) => {
      const entry: OutboxEntry<P> = { payload, resolve, reject };
      if (this.#ready && !this.#holding && this.#queue.length === 0) {
        this.#publish(entry);
        return;
      }
      if (this.queued >= this.#o.maxQueuedMessages) {
        reject(
          new McpError(
            'NOT_CONNECTED',
            `MQTT outbox full: ${this.queued} messages already wait for the broker or a server (maxQueuedMessages)`,
          ),
        );
        return;
      }
      this.#queue.push(entry);
    });
  }

  /** Connected and subscribed (`true`), or not (`false`): queued messages go out when it turns true. */
  setReady(ready: boolean): void {
    this.#ready = ready;
    if (ready) this.#flush();
  }

  /** Rejects everything queued with `error`; later sends reject too. */
  close(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    if (this.#timer) clearTimeout(this.#timer);
    const all = [...this.#redo, ...this.#queue];
    this.#redo = [];
    this.#queue = [];
    for (const e of all) e.reject(error);
  }

  #flush(): void {
    while (this.#ready && !this.#holding && !this.#closed && this.#queue.length > 0) {
      this.#publish(this.#queue.shift()!);
    }
  }

  #publish(entry: OutboxEntry<P>): void {
    this.#o.publish(entry.payload).then(
      (outcome) => {
        if (outcome === 'delivered') {
          this.#round = 0;
          entry.resolve();
        } else this.#missed(entry);
      },
      (error: Error) => entry.reject(error),
    );
  }

  #missed(entry: OutboxEntry<P>): void {
    if (this.#closed) {
      entry.reject(this.#closed);
      return;
    }
    const now = Date.now();
    entry.firstMissAt ??= now;
    if (now - entry.firstMissAt >= this.#o.noSubscriberRetryMs) {
      entry.reject(
        new McpError(
          'NOT_CONNECTED',
          `no MCP server is subscribed to ${this.#o.topic} (the broker answered "No matching subscribers" for ${now - entry.firstMissAt} ms)`,
        ),
      );
      return;
    }
    this.#redo.push(entry);
    this.#holding = true;
    if (this.#timer) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#round++);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#holding = false;
      this.#queue.unshift(...this.#redo);
      this.#redo = [];
      this.#flush();
    }, delay);
    this.#timer.unref?.();
  }
}
