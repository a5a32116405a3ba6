/**
 * Length-prefixed framing as a pure unit, for the binary codec of the byte-stream bindings: every
 * frame is a 4-byte unsigned big-endian payload length followed by that many payload bytes. No I/O.
 *
 * Unlike a line, a frame announces its size up front, so an oversized frame is reported as soon as
 * its header arrives and its payload is skipped without being buffered; the stream stays in sync and
 * the connection keeps serving (the same guarantee the newline framing gives).
 * @module
 */
import { ChunkBuffer } from '../../jsonrpc/chunk-buffer.js';
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

/** A Buffer view of `bytes`, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Splits a byte stream into length-prefixed payloads. */
export class LengthPrefixDecoder {
  readonly maxMessageBytes: number;
  #onframe: (payload: Buffer) => void;
  #onoverflow: ((bytes: number) => void) | undefined;
  /** Bytes of an incomplete header. */
  #header = Buffer.alloc(LENGTH_PREFIX_BYTES);
  #headerLength = 0;
  /** Payload length of the frame being read, or -1 while reading a header. */
  #need = -1;
  /** Bytes of an incomplete payload. */
  #held = new ChunkBuffer();
  /** Payload bytes still to skip of an oversized frame. */
  #skip = 0;

  constructor(options: LengthPrefixDecoderOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#onframe = options.onframe;
    this.#onoverflow = options.onoverflow;
  }

  /**
   * Feeds a chunk of bytes. Each byte is looked at once; an incomplete payload is held in blocks (see
   * {@link ChunkBuffer}), so memory stays within `maxMessageBytes` plus 64 KiB and the work stays
   * linear however the bytes are split.
   */
  push(chunk: Buffer): void {
    const buf = chunk;
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, end - pos);
        this.#skip -= n;
        pos += n;
        continue;
      }
      if (this.#need < 0) {
        let len: number;
        if (this.#headerLength === 0 && end - pos >= LENGTH_PREFIX_BYTES) {
          len = buf.readUInt32BE(pos);
          pos += LENGTH_PREFIX_BYTES;
        } else {
          const take = Math.min(LENGTH_PREFIX_BYTES - this.#headerLength, end - pos);
          this.#header.set(buf.subarray(pos, pos + take), this.#headerLength);
          this.#headerLength += take;
          pos += take;
          if (this.#headerLength < LENGTH_PREFIX_BYTES) return;
          this.#headerLength = 0;
          len = this.#header.readUInt32BE(0);
        }
        if (len > this.maxMessageBytes) {
          // Reported once its header is known; the payload is skipped, never buffered.
          this.#skip = len;
          this.#onoverflow?.(len);
        } else if (len > 0) this.#need = len;
        continue;
      }
      const missing = this.#need - this.#held.length;
      if (end - pos < missing) {
        this.#held.append(buf.subarray(pos));
        return;
      }
      const payload =
        this.#held.length === 0
          ? buf.subarray(pos, pos + missing)
          : asBuffer(this.#held.concat(buf.subarray(pos, pos + missing)));
      this.#held.clear();
      this.#need = -1;
      pos += missing;
      this.#onframe(payload);
    }
  }

  /** Bytes held for an incomplete frame (header and payload). */
  get bufferedBytes(): number {
    return this.#headerLength + this.#held.length;
  }

  /** Bytes of memory held for an incomplete frame: at most `maxMessageBytes` plus 64 KiB. */
  get retainedBytes(): number {
    return this.#held.retainedBytes;
  }

  /** Bytes copied while held so far (each payload byte at most twice): a measure of the work done. */
  get copiedBytes(): number {
    return this.#held.copiedBytes;
  }

  /** Drops any incomplete frame. */
  reset(): void {
    this.#held.clear();
    this.#headerLength = 0;
    this.#need = -1;
    this.#skip = 0;
  }
}
