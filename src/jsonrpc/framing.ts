/**
 * Newline-delimited framing as a pure unit (MCP basic/transports "stdio": messages are delimited by
 * newlines and MUST NOT contain embedded newlines). Fed bytes, it emits complete lines; a `\r`
 * before the newline is stripped; a line longer than `maxMessageBytes` is reported and discarded
 * without being buffered whole.
 * @module
 */

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

/** Splits a byte stream into lines. */
export class LineDecoder {
  readonly maxMessageBytes: number;
  #online: (line: string) => void;
  #onoverflow: ((bytes: number) => void) | undefined;
  #parts: Buffer[] = [];
  #size = 0;
  #discarding = false;

  constructor(options: LineDecoderOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#online = options.online;
    this.#onoverflow = options.onoverflow;
  }

  /** Feeds a chunk of bytes (or text, taken as UTF-8). */
  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl === -1) break;
      if (this.#discarding) {
        this.#discarding = false;
        this.#size = 0;
      } else if (this.#parts.length === 0) {
        this.#emit(buf, start, nl);
      } else {
        this.#parts.push(buf.subarray(start, nl));
        const whole = Buffer.concat(this.#parts, this.#size + (nl - start));
        this.#parts = [];
        this.#size = 0;
        this.#emit(whole, 0, whole.length);
      }
      start = nl + 1;
    }
    if (start < buf.length) {
      if (this.#discarding) return;
      const rest = buf.length - start;
      if (this.#size + rest > this.maxMessageBytes) {
        this.#onoverflow?.(this.#size + rest);
        this.#parts = [];
        this.#size = 0;
        this.#discarding = true;
        return;
      }
      // Copy: the caller may reuse its buffer.
      this.#parts.push(Buffer.from(buf.subarray(start)));
      this.#size += rest;
    }
  }

  /** Bytes held for an incomplete line. */
  get bufferedBytes(): number {
    return this.#size;
  }

  /** Drops any incomplete line. */
  reset(): void {
    this.#parts = [];
    this.#size = 0;
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
