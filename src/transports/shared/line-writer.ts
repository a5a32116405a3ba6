/**
 * Coalescing newline-delimited writer for Node streams: messages queued in one turn of the event
 * loop go out in one `write`, and `drain` backpressure is honoured (nothing is written while the
 * stream's buffer is full; the queue waits).
 * @module
 */
import type { Writable } from 'node:stream';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';

const DONE = Promise.resolve();

/** Writes JSON-RPC messages as lines. */
export class LineWriter {
  #write: (chunk: string) => boolean;
  #stream: Writable;
  #queue: string[] = [];
  #scheduled = false;
  #blocked = false;
  #waiters: (() => void)[] = [];
  #closed = false;
  onerror?: (error: Error) => void;

  /**
   * @param stream the destination
   * @param write the function that writes to it (defaults to `stream.write`; the stdout guard passes the real one)
   */
  constructor(stream: Writable, write?: (chunk: string) => boolean) {
    this.#stream = stream;
    this.#write = write ?? ((chunk) => stream.write(chunk));
  }

  /** Queues a message; resolves at once unless the stream is backed up, then when it drains. */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed) return DONE;
    this.#queue.push(`${JSON.stringify(message)}\n`);
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    if (!this.#blocked) return DONE;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Writes everything queued now (used before closing). */
  flushNow(): void {
    this.#flush();
  }

  /**
   * Stops writing: drops what is queued and releases callers waiting for `drain`, which never
   * comes once the stream is gone. Later sends resolve at once and write nothing.
   */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Number of bytes waiting in memory (queued here, or buffered in the stream). */
  get pendingBytes(): number {
    return this.#queue.reduce((n, s) => n + s.length, 0) + this.#stream.writableLength;
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#blocked || this.#queue.length === 0) return;
    const data = this.#queue.length === 1 ? this.#queue[0]! : this.#queue.join('');
    this.#queue = [];
    let ok: boolean;
    try {
      ok = this.#write(data);
    } catch (error) {
      this.onerror?.(error as Error);
      return;
    }
    if (!ok) {
      this.#blocked = true;
      this.#stream.once('drain', () => {
        this.#blocked = false;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const w of waiters) w();
        if (this.#queue.length) this.#flush();
      });
    }
  };
}
