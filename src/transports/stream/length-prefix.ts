/**
 * Length-prefixed framing as a pure unit, for the binary codec of the byte-stream bindings: every
 * frame is a 4-byte unsigned big-endian payload length followed by that many payload bytes. No I/O.
 *
 * Unlike a line, a frame announces its size up front, so an oversized frame is reported as soon as
 * its header arrives and its payload is skipped without being buffered; the stream stays in sync and
 * the connection keeps serving (the same guarantee the newline framing gives).
 * @module
 */
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';

/** Size of the length header in bytes. */
export const LENGTH_PREFIX_BYTES = 4;

/** Largest payload the 4-byte header can describe: 2^32 - 1 bytes. */
export const MAX_FRAME_PAYLOAD_BYTES = 0xffff_ffff;

/** Options of {@link LengthPrefixDecoder}. */
export interface LengthPrefixDecoderOptions {
  /** Largest accepted payload in bytes (header excluded). Default 4 MiB ({@link DEFAULT_MAX_MESSAGE_BYTES}). */
  maxMessageBytes?: number;
  /**
   * Called with each complete payload. The bytes may be a view into the chunk being decoded: use or
   * copy them before returning. Empty payloads (length 0) are skipped, like empty lines.
   */
  onframe: (payload: Buffer) => void;
  /** Called once per frame whose announced length exceeds `maxMessageBytes`; its payload is skipped. */
  onoverflow?: (bytes: number) => void;
}

/**
 * Prepends the length header to `payload`.
 * @throws RangeError when the payload is longer than {@link MAX_FRAME_PAYLOAD_BYTES}
 */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) {
    throw new RangeError(`anywire: a frame payload of ${payload.length} bytes does not fit a 4-byte length`);
  }
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, LENGTH_PREFIX_BYTES);
  return frame;
}

/** Splits a byte stream into length-prefixed payloads. */
export class LengthPrefixDecoder {
  readonly maxMessageBytes: number;
  #onframe: (payload: Buffer) => void;
  #onoverflow: ((bytes: number) => void) | undefined;
  /** Bytes of an incomplete header or payload. */
  #parts: Buffer[] = [];
  #size = 0;
  /** Payload bytes still to skip of an oversized frame. */
  #skip = 0;

  constructor(options: LengthPrefixDecoderOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#onframe = options.onframe;
    this.#onoverflow = options.onoverflow;
  }

  /** Feeds a chunk of bytes. */
  push(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length);
        this.#skip -= n;
        buf = buf.subarray(n);
      } else if (this.#size === 0) {
        this.#drain(buf);
        return;
      } else {
        buf = this.#complete(buf);
      }
    }
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#size;
  }

  /** Drops any incomplete frame. */
  reset(): void {
    this.#parts = [];
    this.#size = 0;
    this.#skip = 0;
  }

  /** Adds bytes to the buffered incomplete frame; returns the bytes after it. */
  #complete(buf: Buffer): Buffer {
    if (this.#size < LENGTH_PREFIX_BYTES) {
      const take = Math.min(LENGTH_PREFIX_BYTES - this.#size, buf.length);
      this.#hold(buf.subarray(0, take));
      buf = buf.subarray(take);
      if (this.#size < LENGTH_PREFIX_BYTES) return buf;
      const len = Buffer.concat(this.#parts, this.#size).readUInt32BE(0);
      if (len > this.maxMessageBytes) {
        // Reported once its header is known; the payload is skipped, never buffered.
        this.reset();
        this.#onoverflow?.(len);
        this.#skip = len;
        return buf;
      }
      if (len === 0) {
        this.reset();
        return buf;
      }
    }
    const len = this.#headerLength();
    const missing = LENGTH_PREFIX_BYTES + len - this.#size;
    if (buf.length < missing) {
      this.#hold(buf);
      return buf.subarray(buf.length);
    }
    const whole = Buffer.concat([...this.#parts, buf.subarray(0, missing)], LENGTH_PREFIX_BYTES + len);
    this.#parts = [];
    this.#size = 0;
    this.#onframe(whole.subarray(LENGTH_PREFIX_BYTES));
    return buf.subarray(missing);
  }

  #headerLength(): number {
    const first = this.#parts[0]!;
    return first.length >= LENGTH_PREFIX_BYTES
      ? first.readUInt32BE(0)
      : Buffer.concat(this.#parts, this.#size).readUInt32BE(0);
  }

  /** Keeps a copy of `bytes` (the caller may reuse its buffer). */
  #hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#parts.push(Buffer.from(bytes));
    this.#size += bytes.length;
  }

  /** Decodes complete frames from the start of `buf` and holds an incomplete tail. */
  #drain(buf: Buffer): void {
    let pos = 0;
    while (buf.length - pos >= LENGTH_PREFIX_BYTES) {
      const len = buf.readUInt32BE(pos);
      const start = pos + LENGTH_PREFIX_BYTES;
      if (len > this.maxMessageBytes) {
        this.#onoverflow?.(len);
        const available = buf.length - start;
        if (available < len) {
          this.#skip = len - available;
          return;
        }
        pos = start + len;
        continue;
      }
      if (buf.length - start < len) break;
      pos = start + len;
      if (len > 0) this.#onframe(buf.subarray(start, pos));
    }
    if (pos < buf.length) this.#hold(buf.subarray(pos));
  }
}
