/**
 * The bytes of one incomplete frame, held by the line, length-prefix and SSE decoders between reads.
 * A pure unit (no I/O, plain `Uint8Array`s, so it runs in browsers too).
 *
 * Bytes that arrive in many small reads (a peer trickling one byte at a time) are copied into blocks
 * that grow from 256 bytes to 64 KiB, never kept as one object per read, and never concatenated into
 * a growing buffer on each read. So the memory held is at most the bytes held plus one block (64 KiB),
 * and each byte is copied at most twice (once in, once out), however the bytes arrive.
 * @module
 */

const MIN_BLOCK_BYTES = 256;
const MAX_BLOCK_BYTES = 64 * 1024;

/** An append-only list of byte blocks with a running length. */
export class ChunkBuffer {
  #blocks: Uint8Array[] = [];
  #tail: Uint8Array | undefined;
  #tailLength = 0;
  #length = 0;
  #copied = 0;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Bytes of memory held (the bytes plus the unused room of the last block): at most `length` + 64 KiB. */
  get retainedBytes(): number {
    let n = this.#tail ? this.#tail.length : 0;
    for (const b of this.#blocks) n += b.length;
    return n;
  }

  /** Bytes copied so far, in and out: a measure of the work done (at most twice the bytes appended). */
  get copiedBytes(): number {
    return this.#copied;
  }

  /** The last byte held, or `undefined` when empty. */
  get lastByte(): number | undefined {
    if (this.#tail && this.#tailLength > 0) return this.#tail[this.#tailLength - 1];
    const last = this.#blocks[this.#blocks.length - 1];
    return last ? last[last.length - 1] : undefined;
  }

  /** Appends a copy of `bytes` (the caller may reuse its buffer). */
  append(bytes: Uint8Array): void {
    let from = 0;
    const n = bytes.length;
    if (n === 0) return;
    this.#length += n;
    this.#copied += n;
    if (this.#tail) {
      const room = this.#tail.length - this.#tailLength;
      const take = Math.min(room, n);
      this.#tail.set(take === n ? bytes : bytes.subarray(0, take), this.#tailLength);
      this.#tailLength += take;
      from = take;
      if (this.#tailLength === this.#tail.length) {
        this.#blocks.push(this.#tail);
        this.#tail = undefined;
        this.#tailLength = 0;
      }
      if (from === n) return;
    }
    const rest = n - from;
    if (rest >= MAX_BLOCK_BYTES) {
      // A large read is kept whole, at its exact size.
      this.#blocks.push(bytes.slice(from));
      return;
    }
    const size = Math.max(rest, Math.min(MAX_BLOCK_BYTES, Math.max(MIN_BLOCK_BYTES, this.#length)));
    this.#tail = new Uint8Array(size);
    this.#tail.set(from === 0 ? bytes : bytes.subarray(from), 0);
    this.#tailLength = rest;
  }

  /** One buffer with every byte held, followed by `extra` when given. Does not clear. */
  concat(extra?: Uint8Array): Uint8Array {
    const total = this.#length + (extra ? extra.length : 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const b of this.#blocks) {
      out.set(b, at);
      at += b.length;
    }
    if (this.#tail) {
      out.set(this.#tail.subarray(0, this.#tailLength), at);
      at += this.#tailLength;
    }
    if (extra) out.set(extra, at);
    this.#copied += total;
    return out;
  }

  /** Drops every byte and frees the blocks. */
  clear(): void {
    this.#blocks = [];
    this.#tail = undefined;
    this.#tailLength = 0;
    this.#length = 0;
  }
}
