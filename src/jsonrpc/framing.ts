/**
 * Newline-delimited framing as a pure unit (MCP basic/transports "stdio": messages are delimited by
 * newlines and MUST NOT contain embedded newlines). Fed bytes, it emits complete lines; a `\r`
 * before the newline is stripped; a line longer than `maxMessageBytes` is reported and discarded
 * without being buffered whole.
 * @module
 */

import { ChunkBuffer } from './chunk-buffer.js';

/** Default cap on one line: 4 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Options for {@link LineDecoder}. */
export interface LineDecoderOptions {
  /** Longest accepted line in bytes, excluding the newline. Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
  /** Called with each complete line (without `\n` or a trailing `\r`). Empty lines are skipped. */
  online: (line: string) => void;
  /** Called once per line that exceeded the limit, with the number of bytes seen before discarding. */
  onoverflow?: (bytes: number) => void;
}

const NL = 0x0a;
const CR = 0x0d;

/** A Buffer view of `bytes`, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Splits a byte stream into lines. */
export class LineDecoder {
  readonly maxMessageBytes: number;
  #online: (line: string) => void;
  #onoverflow: ((bytes: number) => void) | undefined;
  #held = new ChunkBuffer();
  #discarding = false;
  #scanned = 0;

  constructor(options: LineDecoderOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#online = options.online;
    this.#onoverflow = options.onoverflow;
  }

  /**
   * Feeds a chunk of bytes (or text, taken as UTF-8). Only the new bytes are searched for the
   * newline; an incomplete line is held in blocks (see {@link ChunkBuffer}), so memory stays within
   * `maxMessageBytes` plus 64 KiB and the work stays linear however the bytes are split.
   */
  push(chunk: Uint8Array | string): void {
    // Typed as Uint8Array so the published types need no Node typings (a Buffer is one).
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.isBuffer(chunk)
          ? chunk
          : asBuffer(chunk);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      this.#scanned += (nl === -1 ? buf.length : nl + 1) - start;
      if (nl === -1) break;
      if (this.#discarding) {
        this.#discarding = false;
      } else if (this.#held.length === 0) {
        this.#emit(buf, start, nl);
      } else {
        const whole = asBuffer(this.#held.concat(buf.subarray(start, nl)));
        this.#held.clear();
        this.#emit(whole, 0, whole.length);
      }
      start = nl + 1;
    }
    if (start >= buf.length || this.#discarding) return;
    const total = this.#held.length + (buf.length - start);
    // A trailing `\r` may be the first half of the CRLF that ends a line of exactly maxMessageBytes.
    const pendingCrlf = total === this.maxMessageBytes + 1 && buf[buf.length - 1] === CR;
    if (total > this.maxMessageBytes && !pendingCrlf) {
      this.#held.clear();
      this.#discarding = true;
      this.#onoverflow?.(total);
      return;
    }
    this.#held.append(buf.subarray(start));
  }

  /** Bytes held for an incomplete line. */
  get bufferedBytes(): number {
    return this.#held.length;
  }

  /** Bytes of memory held for an incomplete line: at most `maxMessageBytes` + 1 plus 64 KiB. */
  get retainedBytes(): number {
    return this.#held.retainedBytes;
  }

  /**
   * Work done so far, in bytes: `scanned` bytes searched for a newline (each byte pushed is searched
   * once) and `copied` bytes copied while held (each byte at most twice).
   */
  get work(): { scanned: number; copied: number } {
    return { scanned: this.#scanned, copied: this.#held.copiedBytes };
  }

  /** Drops any incomplete line. */
  reset(): void {
    this.#held.clear();
    this.#discarding = false;
  }

  #emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    const len = end - start;
    if (len === 0) return;
    if (len > this.maxMessageBytes) {
      this.#onoverflow?.(len);
      return;
    }
    this.#online(buf.toString('utf8', start, end));
  }
}
