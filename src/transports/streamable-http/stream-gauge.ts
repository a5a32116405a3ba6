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
  #streams = new Set<SseStream>();
  #pending = 0;
  #idle: (() => void)[] = [];

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
    this.#streams.add(stream);
    stream.onend = (delivered) => {
      release();
      this.#streams.delete(stream);
      onend?.(delivered);
    };
  }

  /** Counts one request whose response is not handed over yet; the returned function (idempotent) settles it. */
  begin(): () => void {
    this.#pending++;
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      if (--this.#pending === 0) for (const w of this.#idle.splice(0)) w();
    };
  }

  /**
   * Resolves once every request counted by {@link begin} has its response handed over and the
   * streams open now have written what they queued, or after `timeoutMs`, whichever comes first.
   */
  async drain(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
      (timer as { unref?: () => void }).unref?.();
    });
    const idle = this.#pending === 0 ? Promise.resolve() : new Promise<void>((r) => this.#idle.push(r));
    await Promise.race([idle.then(() => Promise.all([...this.#streams].map((s) => s.flushed()))), timeout]);
    clearTimeout(timer);
  }
}
