/**
 * The stdio binding, server side (MCP basic/transports "stdio"): newline-delimited JSON-RPC on
 * stdin/stdout, human output on stderr only. A stdout guard sends anything else written to
 * `process.stdout` (a stray `console.log`) to stderr, so it cannot corrupt the protocol.
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import { createLineReader } from '../shared/line-reader.js';
import { LineWriter } from '../shared/line-writer.js';
import { ResponseSpacing } from '../shared/response-spacing.js';
import { checkNumbers } from '../shared/options.js';

/** Options of {@link StdioServerTransport}. */
export interface StdioServerTransportOptions {
  /** Input stream. Default `process.stdin`. */
  stdin?: Readable;
  /** Output stream. Default `process.stdout`. */
  stdout?: Writable;
  /** Longest accepted line in bytes; longer ones get -32600 and are discarded. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Redirect other writes to `process.stdout` to stderr. Default true when `stdout` is `process.stdout`. */
  guardStdout?: boolean;
  /**
   * Delay in ms before writing a response whose request sent notifications (progress, logs), in a
   * write of its own. The official SDK clients dispatch notifications a microtask later than
   * responses, so a progress notification that reaches them in the same read as its response is
   * dropped. Default 2; 0 writes the response with the rest.
   */
  responseAfterNotificationDelayMs?: number;
}

/**
 * Redirects writes to `process.stdout` to `process.stderr` and returns the real writer.
 * Call `restore()` to undo.
 */
export function guardStdout(): { write: (chunk: string) => boolean; restore: () => void } {
  const out = process.stdout;
  const original = out.write;
  const real = original.bind(out) as (chunk: string) => boolean;
  out.write = ((chunk: any, encoding?: any, cb?: any) =>
    process.stderr.write(chunk, encoding, cb)) as typeof out.write;
  return {
    write: real,
    restore: () => {
      out.write = original;
    },
  };
}

const CONTEXT: MessageContext = Object.freeze({ binding: 'stdio' });

/** Serves one MCP connection over stdin/stdout. */
export class StdioServerTransport implements Transport {
  readonly binding = 'stdio';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  #stdin: Readable;
  #stdout: Writable;
  #writer: LineWriter;
  #guard: { restore: () => void } | undefined;
  #closed = false;
  #maxMessageBytes: number;
  #spacing: ResponseSpacing;
  #ondata = (chunk: Buffer) => this.#decoder.push(chunk);
  #onend = () => void this.close();
  #onerr = (e: Error) => this.onerror?.(e);
  #decoder;

  /** @throws RangeError naming a numeric option out of range */
  constructor(options: StdioServerTransportOptions = {}) {
    checkNumbers({
      maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
      responseAfterNotificationDelayMs: [options.responseAfterNotificationDelayMs, { min: 0 }],
    });
    this.#stdin = options.stdin ?? process.stdin;
    this.#stdout = options.stdout ?? process.stdout;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#spacing = new ResponseSpacing(options.responseAfterNotificationDelayMs);
    let write: ((chunk: string) => boolean) | undefined;
    if (options.guardStdout ?? this.#stdout === process.stdout) {
      const g = guardStdout();
      this.#guard = g;
      write = g.write;
    }
    this.#writer = new LineWriter(this.#stdout, write);
    this.#writer.onerror = (e) => this.onerror?.(e);
    this.#decoder = createLineReader({
      maxMessageBytes: this.#maxMessageBytes,
      onmessage: (m) => this.onmessage?.(m, CONTEXT),
      oninvalid: (response) => {
        this.onerror?.(new Error(`anywire: invalid message on stdin: ${response.error.message}`));
        void this.#writer.send(response);
      },
    });
  }

  async start(): Promise<void> {
    this.#stdin.on('data', this.#ondata);
    this.#stdin.on('end', this.#onend);
    this.#stdin.on('error', this.#onerr);
    this.#stdout.on('error', this.#onerr);
  }

  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const delay = this.#spacing.delayFor(message, options?.relatedRequestId);
    if (delay > 0) {
      return new Promise((resolve) => {
        setTimeout(() => {
          this.#writer.flushNow();
          resolve(this.#writer.send(message));
        }, delay);
      });
    }
    return this.#writer.send(message);
  }

  /** Stops reading; queued output is written first. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.flushNow();
    this.#stdin.off('data', this.#ondata);
    this.#stdin.off('end', this.#onend);
    this.#stdin.off('error', this.#onerr);
    this.#stdout.off('error', this.#onerr);
    if (this.#stdin === process.stdin) this.#stdin.pause();
    this.#guard?.restore();
    this.onclose?.();
  }

  /** Bytes not yet handed to the OS (queued or in the stream buffer). */
  get pendingBytes(): number {
    return this.#writer.pendingBytes;
  }
}
