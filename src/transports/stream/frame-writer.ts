/**
 * Coalescing writer of binary frames for Node streams, the counterpart of the shared `LineWriter`
 * for the negotiated binary codec: frames queued in one turn of the event loop go out in one
 * `write`, and `drain` backpressure is honoured (nothing is written while the stream's buffer is
 * full; callers wait).
 * @module
 */
import type { Writable } from 'node:stream';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';

const DONE = Promise.resolve();

/** Writes JSON-RPC messages as frames made by `encode`. */
export class FrameWriter {
  #stream: Writable;
  #encode: (message: JsonRpcMessage | JsonRpcMessage[]) => Buffer;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  #blocked = false;
  #closed = false;
  #waiters: (() => void)[] = [];
  /** A frame could not be encoded or written. */
  onerror?: (error: Error) => void;

  /**
   * @param stream the destination
   * @param encode turns one message (or batch) into one complete frame
   */
  constructor(stream: Writable, encode: (message: JsonRpcMessage | JsonRpcMessage[]) => Buffer) {
    this.#stream = stream;
    this.#encode = encode;
  }

  /**
   * Queues a message; resolves at once unless the stream is backed up, then when it drains.
   * @throws (rejects) the encoder's error when the message cannot be encoded
   */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed) return DONE;
    let frame: Buffer;
    try {
      frame = this.#encode(message);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
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

  /** Stops writing and releases every caller waiting for `drain`. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#release();
  }

  /** Bytes waiting in memory (queued here, or buffered in the stream). */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#stream.writableLength;
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#blocked || this.#queue.length === 0) return;
    const data = this.#queue.length === 1 ? this.#queue[0]! : Buffer.concat(this.#queue, this.#queuedBytes);
    this.#queue = [];
    this.#queuedBytes = 0;
    let ok: boolean;
    try {
      ok = this.#stream.write(data);
    } catch (error) {
      this.onerror?.(error as Error);
      return;
    }
    if (!ok && !this.#closed) {
      this.#blocked = true;
      this.#stream.once('drain', () => {
        this.#blocked = false;
        this.#release();
        if (this.#queue.length) this.#flush();
      });
    }
  };
}
