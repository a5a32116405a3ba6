/**
 * Counts the open SSE streams of one HTTP server (Streamable HTTP POST and GET streams, and the
 * 2024-11-05 HTTP+SSE streams) against `maxStreams`.
 * @module
 */
import type { SseStream } from './sse-stream.js';

/** Open SSE streams against a cap. */
export class StreamGauge {
  readonly max: number;
  #open = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Streams open right now. */
  get open(): number {
    return this.#open;
  }

  /** True when one more stream would exceed the cap. */
  get full(): boolean {
    return this.#open >= this.max;
  }

  /** Counts a stream as open; the returned function (idempotent) counts it closed. */
  acquire(): () => void {
    this.#open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
    };
  }

  /** Counts `stream` until it ends, and calls `onend` then. */
  track(stream: SseStream, onend?: (delivered: boolean) => void): void {
    const release = this.acquire();
    stream.onend = (delivered) => {
      release();
      onend?.(delivered);
    };
  }
}
