/**
 * Coalescing writers for Node streams: messages queued in one turn of the event loop go out in one
 * `write`, and `drain` backpressure is honoured (nothing is written while the stream's buffer is
 * full; callers wait). `LineWriter` writes newline-delimited JSON (stdio, TCP); the stream binding's
 * `FrameWriter` writes binary frames with the same machinery.
 * @module
 */
import type { Writable } from 'node:stream';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';

const DONE = Promise.resolve();

/** Writes JSON-RPC messages to a stream as chunks made by an encoder. */
export class CoalescingWriter<Chunk extends string | Buffer> {
  #encode: (message: JsonRpcMessage | JsonRpcMessage[]) => Chunk;
  #write: (chunk: Chunk) => boolean;
  #stream: Writable;
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  #blocked = false;
  #waiters: (() => void)[] = [];
  #closed = false;
  /** A chunk could not be written. */
  onerror?: (error: Error) => void;

  /**
   * @param stream the destination
   * @param encode turns one message (or batch) into one complete chunk
   * @param write the function that writes to it (defaults to `stream.write`; the stdout guard passes the real one)
   */
  constructor(
    stream: Writable,
    encode: (message: JsonRpcMessage | JsonRpcMessage[]) => Chunk,
    write?: (chunk: Chunk) => boolean,
  ) {
    this.#stream = stream;
    this.#encode = encode;
    this.#write = write ?? ((chunk) => stream.write(chunk));
  }

  /**
   * Queues a message; resolves at once unless the stream is backed up, then when it drains.
   * @throws (rejects) the encoder's error when the message cannot be encoded
   */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed) return DONE;
    let chunk: Chunk;
    try {
      chunk = this.#encode(message);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
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
    this.#queuedBytes = 0;
    this.#release();
  }

  /** Bytes (or, for text, characters) waiting in memory: queued here, or buffered in the stream. */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#stream.writableLength;
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #join(): Chunk {
    const q = this.#queue;
    if (q.length === 1) return q[0]!;
    return (typeof q[0] === 'string' ? q.join('') : Buffer.concat(q as Buffer[], this.#queuedBytes)) as Chunk;
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#blocked || this.#queue.length === 0) return;
    const data = this.#join();
    this.#queue = [];
    this.#queuedBytes = 0;
    let ok: boolean;
    try {
      ok = this.#write(data);
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

const line = (message: JsonRpcMessage | JsonRpcMessage[]): string => `${JSON.stringify(message)}\n`;

/** Writes JSON-RPC messages as newline-delimited lines (MCP basic/transports "stdio" framing). */
export class LineWriter extends CoalescingWriter<string> {
  /**
   * @param stream the destination
   * @param write the function that writes to it (defaults to `stream.write`; the stdout guard passes the real one)
   */
  constructor(stream: Writable, write?: (chunk: string) => boolean) {
    super(stream, line, write);
  }
}
